import { describe, expect, it } from '@jest/globals';
import { clickWindowPlacement } from './click-window.js';

const DAY = 86_400_000;
const clickAt = Date.UTC(2026, 0, 10, 12);

describe(clickWindowPlacement.name, () => {
  it.each([
    ['at the click', clickAt, 'inside'],
    ['a day later', clickAt + DAY, 'inside'],
    ['exactly at the end of the window', clickAt + 7 * DAY, 'inside'],
    ['a millisecond after the window', clickAt + 7 * DAY + 1, 'after_window'],
    ['stamped in whole seconds just before the click (clock skew)', clickAt - 254, 'inside'],
    ['5 s before the click', clickAt - 5000, 'inside'],
    ['more than 5 s before the click', clickAt - 5001, 'before_click'],
  ] as const)('places a conversion %s of a 7-day window %s', (_label, conversionAt, expected) => {
    expect(clickWindowPlacement(clickAt, conversionAt, 7)).toBe(expected);
  });

  it('uses the campaign window it is given', () => {
    expect(clickWindowPlacement(clickAt, clickAt + 2 * DAY, 1)).toBe('after_window');
    expect(clickWindowPlacement(clickAt, clickAt + 20 * DAY, 30)).toBe('inside');
  });

  it('refuses a window that is not a positive whole number of days', () => {
    expect(() => clickWindowPlacement(clickAt, clickAt, 0)).toThrow(/positive whole number of days, got 0/);
    expect(() => clickWindowPlacement(clickAt, clickAt, 1.5)).toThrow(/got 1.5/);
  });
});
