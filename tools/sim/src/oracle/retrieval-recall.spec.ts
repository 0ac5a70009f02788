import { describe, expect, it } from '@jest/globals';
import { recall } from './retrieval-recall.js';

describe(recall.name, () => {
  it('is the share of the oracle list that was retrieved', () => {
    expect(recall([1, 2, 3, 9], [1, 2, 4, 5])).toBe(0.5);
    expect(recall([], [1])).toBe(0);
    expect(recall([7], [])).toBe(1);
  });
});
