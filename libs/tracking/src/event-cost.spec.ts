import { describe, expect, it } from '@jest/globals';
import { eventCostMicros } from './event-cost.js';

describe(eventCostMicros.name, () => {
  it.each([
    ['impression', 'CPM', 2.5, 2500],
    ['impression', 'CPM', 0.000_001, 0],
    ['impression', 'CPM', 1.2345, 1235],
    ['click', 'CPM', 2.5, 0],
    ['click', 'CPC', 0.4, 400_000],
    ['click', 'CPC', 0.29, 290_000],
    ['impression', 'CPC', 0.4, 0],
    ['conversion', 'CPA', 12, 12_000_000],
    ['click', 'CPA', 12, 0],
    ['hide', 'CPM', 2.5, 0],
    ['hide', 'CPC', 0.4, 0],
    ['hide', 'CPA', 12, 0],
  ] as const)('charges a %s under %s at %d: %d micros', (type, bidType, price, expected) => {
    expect(eventCostMicros(type, bidType, price)).toBe(expected);
  });

  it('rejects a negative price', () => {
    expect(() => eventCostMicros('click', 'CPC', -1)).toThrow(/non-negative/);
  });
});
