import { describe, expect, it } from '@jest/globals';
import { recall } from './retrieval-recall.js';
import { TopK } from './top-k.js';

describe(TopK.name, () => {
  it('keeps the k best of a stream, best first, ties to the lower id', () => {
    const sut = new TopK(3);
    [
      [0.5, 1],
      [0.9, 2],
      [0.1, 3],
      [0.9, 4],
      [0.7, 5],
      [0.9, 0],
    ].forEach(([score, id]) => sut.push(score, id));
    expect(sut.sorted()).toEqual({ ids: [0, 2, 4], scores: [0.9, 0.9, 0.9] });
  });

  it('matches a full sort on random streams', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const items = Array.from({ length: 1000 }, (_, id) => ({ id, score: Math.round(random() * 50) / 50 }));
    const sut = new TopK(25);
    for (const it of items) sut.push(it.score, it.id);
    const expected = [...items].sort((a, b) => b.score - a.score || a.id - b.id).slice(0, 25);
    expect(sut.sorted().ids).toEqual(expected.map((e) => e.id));
  });
});

describe(recall.name, () => {
  it('is the share of the oracle list that was retrieved', () => {
    expect(recall([1, 2, 3, 9], [1, 2, 4, 5])).toBe(0.5);
    expect(recall([], [1])).toBe(0);
    expect(recall([7], [])).toBe(1);
  });
});
