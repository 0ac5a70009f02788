import { describe, expect, it } from '@jest/globals';
import { eventCost } from './event-cost.js';

describe(eventCost.name, () => {
  it.each([
    ['impression', 'CPM', 2.5, 0.0025],
    ['click', 'CPM', 2.5, 0],
    ['click', 'CPC', 0.4, 0.4],
    ['impression', 'CPC', 0.4, 0],
    ['conversion', 'CPA', 12, 12],
    ['click', 'CPA', 12, 0],
  ] as const)('charges a %s under %s at %d: %d', (type, bidType, price, expected) => {
    expect(eventCost(type, bidType, price)).toBeCloseTo(expected, 12);
  });

  it('rejects a negative price', () => {
    expect(() => eventCost('click', 'CPC', -1)).toThrow(/non-negative/);
  });
});
