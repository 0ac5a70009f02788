import { describe, expect, it } from '@jest/globals';
import { TOPIC_COUNT } from '@adfunnel/features';
import { InterestPostings, MIN_POSTED_WEIGHT } from './interest-postings.js';

/** A deterministic pseudo-random stream (LCG), enough for test data. */
function stream(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 4294967296;
  };
}

/** Mixtures as the decoder makes them: a main category, often a second, a little of the rest. */
function mixtures(count: number, seed: number): Map<number, Float32Array> {
  const next = stream(seed);
  const out = new Map<number, Float32Array>();
  for (let id = 1; id <= count; id++) {
    const m = new Float32Array(TOPIC_COUNT);
    m[Math.floor(next() * TOPIC_COUNT)] += 0.6;
    m[Math.floor(next() * TOPIC_COUNT)] += 0.3 * next();
    for (let c = 0; c < TOPIC_COUNT; c++) if (next() < 0.2) m[c] += 0.05 * next();
    const total = m.reduce((s, w) => s + w, 0);
    out.set(
      id,
      m.map((w) => w / total),
    );
  }
  return out;
}

function bruteForce(
  all: Map<number, Float32Array>,
  affinity: number[],
  k: number,
  admits: (id: number) => boolean,
) {
  return [...all]
    .filter(([id]) => admits(id))
    .map(([id, m]) => ({ id, s: m.reduce((sum, w, c) => sum + affinity[c] * w, 0) }))
    .filter(({ s }) => s > 0)
    .sort((a, b) => b.s - a.s || a.id - b.id)
    .slice(0, k);
}

describe(InterestPostings.name, () => {
  const all = mixtures(3000, 3);
  const postings = InterestPostings.build(all);

  it('finds the same best k as scoring every ad, reading a fraction of the lists', () => {
    const next = stream(11);
    for (let trial = 0; trial < 20; trial++) {
      const affinity = new Array<number>(TOPIC_COUNT).fill(0);
      for (let j = 0; j < 1 + (trial % 4); j++) affinity[Math.floor(next() * TOPIC_COUNT)] += next();
      const admits = (id: number) => id % 5 !== trial % 5;
      const k = 50 + trial * 10;
      const found = postings.top(affinity, k, admits);
      const expected = bruteForce(all, affinity, k, admits);
      // Exact but for weights under MIN_POSTED_WEIGHT, which are not posted: compare scores.
      expect(found.adIds).toHaveLength(expected.length);
      found.scores.forEach((s, i) =>
        expect(Math.abs(s - expected[i].s)).toBeLessThanOrEqual(MIN_POSTED_WEIGHT),
      );
      expect(found.scores[0]).toBeCloseTo(expected[0].s, 6);
      expect([...found.scores].sort((a, b) => b - a)).toEqual(found.scores);
      expect(found.adIds.every(admits)).toBe(true);
    }
    // A user of one category reads about k entries, not the catalog's postings.
    const one = new Array<number>(TOPIC_COUNT).fill(0);
    one[4] = 1;
    expect(postings.top(one, 100, () => true).read).toBeLessThan(200);
  });

  it('ranks the same with a prior on every category, reading no more of the lists', () => {
    const sparse = new Array<number>(TOPIC_COUNT).fill(0);
    sparse[3] = 0.5;
    sparse[9] = 0.3;
    const withPrior = sparse.map((a) => a + 0.02);
    const without = postings.top(sparse, 100, () => true);
    const withIt = postings.top(withPrior, 100, () => true);
    expect(withIt.adIds).toEqual(without.adIds);
    withIt.scores.forEach((s, i) => expect(s).toBeCloseTo(without.scores[i] + 0.02, 5));
    expect(withIt.read).toBe(without.read);
  });

  it('answers nothing for a user without affinity, and only ads of positive score', () => {
    expect(postings.top(new Array<number>(TOPIC_COUNT).fill(0), 10, () => true).adIds).toEqual([]);
    const one = new Array<number>(TOPIC_COUNT).fill(0);
    one[2] = 1;
    const found = postings.top(one, 5000, () => true);
    expect(found.adIds.length).toBeLessThan(all.size);
    expect(Math.min(...found.scores)).toBeGreaterThan(0);
  });

  it('refuses an affinity of the wrong length', () => {
    expect(() => postings.top([1, 0], 10, () => true)).toThrow(/2 entries, expected 16/);
  });
});
