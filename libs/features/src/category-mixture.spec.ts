import { describe, expect, it } from '@jest/globals';
import { CategoryMixtureDecoder, categoryCentroids, interestMatch } from './category-mixture.js';
import { EMBEDDING_DIM } from './content-embedding.js';
import { TOPIC_COUNT } from './topics.js';

function axis(d: number, scale = 1): Float32Array {
  const v = new Float32Array(EMBEDDING_DIM);
  v[d] = scale;
  return v;
}

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function combine(parts: [Float32Array, number][]): Float32Array {
  const v = new Float32Array(EMBEDDING_DIM);
  for (const [c, w] of parts) for (let d = 0; d < EMBEDDING_DIM; d++) v[d] += w * c[d];
  return unit(v);
}

/** A deterministic pseudo-random stream (LCG), enough for test data. */
function stream(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 4294967296;
  };
}

const axes = Array.from({ length: TOPIC_COUNT }, (_, k) => axis(k));

describe(CategoryMixtureDecoder.name, () => {
  it('recovers the weights of a combination of orthogonal centroids, scaled to sum to 1', () => {
    const decoder = CategoryMixtureDecoder.fromCentroids(axes);
    const mixture = decoder.decode({
      categoryIndex: 2,
      embedding: combine([
        [axes[2], 0.8],
        [axes[5], 0.6],
      ]),
    });
    expect(mixture[2]).toBeCloseTo(0.8 / 1.4, 4);
    expect(mixture[5]).toBeCloseTo(0.6 / 1.4, 4);
    expect(mixture.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 5);
  });

  it('solves for correlated centroids instead of reading cosines', () => {
    const a = unit(combine([[axes[0], 1]]));
    const b = unit(
      combine([
        [axes[0], 1],
        [axes[1], 1],
      ]),
    ); // 45 degrees from a
    const centroids = [a, b, ...axes.slice(2)];
    const decoder = CategoryMixtureDecoder.fromCentroids(centroids);
    const mixture = decoder.decode({
      categoryIndex: 1,
      embedding: combine([
        [a, 0.3],
        [b, 0.7],
      ]),
    });
    expect(mixture[0]).toBeCloseTo(0.3, 3);
    expect(mixture[1]).toBeCloseTo(0.7, 3);
    // The cosine to a is high (0.88) though the ad is mostly b: cosines would over-credit a.
  });

  it('never gives a negative weight: a component against a centroid is dropped, not subtracted', () => {
    const decoder = CategoryMixtureDecoder.fromCentroids(axes);
    const mixture = decoder.decode({
      categoryIndex: 1,
      embedding: combine([
        [axes[1], 0.9],
        [axes[3], -0.4],
      ]),
    });
    expect(Math.min(...mixture)).toBeGreaterThanOrEqual(0);
    expect(mixture[1]).toBeCloseTo(1, 5);
  });

  it('falls back to the declared category when no centroid explains the embedding', () => {
    const decoder = CategoryMixtureDecoder.fromCentroids(axes);
    const mixture = decoder.decode({ categoryIndex: 7, embedding: axis(20) });
    expect(Array.from(mixture)).toEqual(Array.from(axes[7].slice(0, TOPIC_COUNT)));
  });

  it('gives 0 to a category the catalog has no ad of', () => {
    const centroids = axes.map((c, k) => (k === 4 ? null : c));
    const decoder = CategoryMixtureDecoder.fromCentroids(centroids);
    const mixture = decoder.decode({
      categoryIndex: 4,
      embedding: combine([
        [axes[4], 1],
        [axes[6], 1],
      ]),
    });
    expect(mixture[4]).toBe(0);
    expect(mixture[6]).toBeCloseTo(1, 5);
  });

  it('decodes a catalog of mixed ads far better than the declared category alone', () => {
    const next = stream(7);
    const basis = Array.from({ length: TOPIC_COUNT }, () =>
      unit(Float32Array.from({ length: EMBEDDING_DIM }, () => next() * 2 - 1)),
    );
    const ads = Array.from({ length: 1600 }, (_, i) => {
      const main = i % TOPIC_COUNT;
      const second = (main + 1 + Math.floor(next() * (TOPIC_COUNT - 1))) % TOPIC_COUNT;
      const truth = new Float32Array(TOPIC_COUNT);
      truth[main] = 0.7;
      truth[second] = 0.3;
      const embedding = combine(
        truth.reduce<[Float32Array, number][]>((p, w, k) => (w ? [...p, [basis[k], w]] : p), []),
      );
      for (let d = 0; d < EMBEDDING_DIM; d++) embedding[d] += 0.03 * (next() * 2 - 1);
      return { categoryIndex: main, embedding: unit(embedding), truth };
    });
    const decoder = CategoryMixtureDecoder.fromAds(ads);
    let decodedError = 0;
    let declaredError = 0;
    for (const ad of ads) {
      const mixture = decoder.decode(ad);
      for (let k = 0; k < TOPIC_COUNT; k++) {
        decodedError += Math.abs(mixture[k] - ad.truth[k]);
        declaredError += Math.abs((k === ad.categoryIndex ? 1 : 0) - ad.truth[k]);
      }
    }
    // The declared category is off by 0.6 per ad (0.3 too much on it, 0.3 missing on the second).
    expect(declaredError / ads.length).toBeCloseTo(0.6, 5);
    expect(decodedError / ads.length).toBeLessThan(0.3);
  });

  it('refuses centroids of the wrong count or dimension, and embeddings of the wrong dimension', () => {
    expect(() => CategoryMixtureDecoder.fromCentroids(axes.slice(1))).toThrow(
      /expected 16 category centroids/,
    );
    expect(() => CategoryMixtureDecoder.fromCentroids([new Float32Array(3), ...axes.slice(1)])).toThrow(
      /3 dimensions, expected 32/,
    );
    const decoder = CategoryMixtureDecoder.fromCentroids(axes);
    expect(() => decoder.decode({ categoryIndex: 0, embedding: [1, 0] })).toThrow(
      /2 dimensions, expected 32/,
    );
  });
});

describe(categoryCentroids.name, () => {
  it('is the unit mean embedding of each declared category, null without ads, ignoring unknown ones', () => {
    const centroids = categoryCentroids([
      { categoryIndex: 0, embedding: axes[0] },
      { categoryIndex: 0, embedding: axes[1] },
      { categoryIndex: 3, embedding: axes[3] },
      { categoryIndex: -1, embedding: axes[9] },
    ]);
    expect(centroids[0]![0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(centroids[0]![1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Array.from(centroids[3]!)).toEqual(Array.from(axes[3]));
    expect(centroids.filter((c) => c === null)).toHaveLength(TOPIC_COUNT - 2);
  });
});

describe(interestMatch.name, () => {
  it('weights the affinity of each category by how much of the ad is about it', () => {
    const affinity = new Float32Array(TOPIC_COUNT);
    affinity[1] = 0.6;
    affinity[2] = 0.4;
    const mixture = new Float32Array(TOPIC_COUNT);
    mixture[1] = 0.25;
    mixture[3] = 0.75;
    expect(interestMatch(affinity, mixture)).toBeCloseTo(0.15, 6);
  });
});
