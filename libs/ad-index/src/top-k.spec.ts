import { describe, it, expect } from '@jest/globals';
import { TopK, selectTopK } from './top-k.js';

describe(TopK.name, () => {
  it('keeps the best scores, best first', () => {
    const sut = new TopK(3);
    [0.1, 0.9, 0.4, 0.7, 0.2, 0.8].forEach((score, i) => sut.push(score, i + 1));

    expect(sut.drain()).toEqual({ ids: [2, 6, 4], scores: [0.9, 0.8, 0.7] });
  });

  it('prefers the smaller id on equal scores, whatever the arrival order', () => {
    const sut = new TopK(2);
    sut.push(0.5, 9);
    sut.push(0.5, 3);
    sut.push(0.5, 5);

    expect(sut.drain().ids).toEqual([3, 5]);
  });

  it('breaks ties at the heap boundary toward the lower id, including id 0', () => {
    const sut = new TopK(3);
    [
      [0.5, 1],
      [0.9, 2],
      [0.1, 3],
      [0.9, 4],
      [0.7, 5],
      [0.9, 0],
    ].forEach(([score, id]) => sut.push(score, id));

    expect(sut.drain()).toEqual({ ids: [0, 2, 4], scores: [0.9, 0.9, 0.9] });
  });

  it('returns fewer than its capacity when fewer were pushed', () => {
    const sut = new TopK(10);
    sut.push(1, 1);

    expect(sut.drain()).toEqual({ ids: [1], scores: [1] });
    expect(sut.length).toBe(0);
  });

  it('has a floor once full: the worst score kept, -Infinity before and at capacity 0', () => {
    const top = new TopK(2);
    expect(top.floor).toBe(-Infinity);
    top.push(3, 1);
    expect(top.floor).toBe(-Infinity);
    top.push(5, 2);
    expect(top.floor).toBe(3);
    top.push(4, 3);
    expect(top.floor).toBe(4);
    expect(new TopK(0).floor).toBe(-Infinity);
  });

  it('keeps nothing at capacity 0 and rejects a capacity that is not a count', () => {
    const sut = new TopK(0);
    sut.push(1, 1);

    expect(sut.drain()).toEqual({ ids: [], scores: [] });
    expect(() => new TopK(-1)).toThrow('TopK capacity must be a non-negative integer, got -1');
    expect(() => new TopK(2.5)).toThrow('TopK capacity must be a non-negative integer, got 2.5');
  });

  it('agrees with a full sort on random input', () => {
    const sut = new TopK(50);
    const items = Array.from({ length: 1000 }, (_, i) => ({
      id: i,
      score: Math.round(Math.sin(i * 12.9898) * 100) / 100,
    }));
    items.forEach(({ id, score }) => sut.push(score, id));

    const expected = [...items].sort((a, b) => b.score - a.score || a.id - b.id).slice(0, 50);
    expect(sut.drain()).toEqual({ ids: expected.map((e) => e.id), scores: expected.map((e) => e.score) });
  });
});

describe(selectTopK.name, () => {
  const scoresOf = (n: number, seed: number) =>
    Float64Array.from({ length: n }, (_, i) => Math.round(Math.sin((i + seed) * 12.9898) * 20) / 20);

  it('answers what TopK answers, ties to the smaller id, for every k', () => {
    for (const [n, seed] of [
      [1, 1],
      [7, 2],
      [300, 3],
      [2000, 4],
    ]) {
      const scores = scoresOf(n, seed);
      // Ids in a different order than positions, so the tie-break reads the id.
      const idAt = (i: number) => (i * 7919) % 10007;
      for (const k of [1, 2, 5, 50, n - 1, n, n + 3].filter((x) => x >= 1)) {
        const heap = new TopK(k);
        scores.forEach((score, i) => heap.push(score, idAt(i)));

        const best = selectTopK(scores, n, k, idAt, new Float64Array(n));

        expect({ ids: best.map(idAt), scores: best.map((i) => scores[i]) }).toEqual(heap.drain());
      }
    }
  });

  it('leaves out positions marked -Infinity and answers fewer when fewer are left', () => {
    const scores = Float64Array.from([0.5, -Infinity, 0.9, -Infinity, 0.1]);

    expect(selectTopK(scores, 5, 2, (i) => i, new Float64Array(5))).toEqual([2, 0]);
    expect(selectTopK(scores, 5, 4, (i) => i, new Float64Array(5))).toEqual([2, 0, 4]);
    expect(selectTopK(scores, 0, 4, (i) => i, new Float64Array(0))).toEqual([]);
  });
});
