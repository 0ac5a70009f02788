import { describe, expect, it } from '@jest/globals';
import { mergeInOrder } from './floor-pipeline.js';

describe(mergeInOrder.name, () => {
  it('takes the lists in order, each id once, up to the limit', () => {
    expect(
      mergeInOrder(
        [
          [3, 1, 2],
          [2, 4, 3, 5],
        ],
        10,
      ),
    ).toEqual([3, 1, 2, 4, 5]);
    expect(
      mergeInOrder(
        [
          [3, 1, 2],
          [2, 4, 3, 5],
        ],
        4,
      ),
    ).toEqual([3, 1, 2, 4]);
    expect(mergeInOrder([], 4)).toEqual([]);
  });
});
