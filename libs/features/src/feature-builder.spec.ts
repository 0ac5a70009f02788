import { describe, expect, it } from '@jest/globals';
import { buildFeatureMatrix } from './feature-builder.js';
import { FEATURE_OFFSETS, FEATURE_SPEC, featureSpecFingerprint } from './feature-spec.js';
import { EMBEDDING_DIM, embedTopicMixture, userEmbedding } from './content-embedding.js';
import { TOPIC_COUNT, topicIndex } from './topics.js';

function interestsIn(topic: string): Float32Array {
  const v = new Float32Array(TOPIC_COUNT);
  v[topicIndex(topic)] = 1;
  return v;
}

describe(buildFeatureMatrix.name, () => {
  const electronics = {
    categoryIndex: topicIndex('electronics'),
    embedding: embedTopicMixture(interestsIn('electronics')),
  };
  const garden = { categoryIndex: topicIndex('garden'), embedding: embedTopicMixture(interestsIn('garden')) };
  const user = { interests: interestsIn('electronics'), device: 'mobile' as const, known: true };

  it('lays out one row of FEATURE_SPEC.dim per ad with the user part repeated', () => {
    const sut = buildFeatureMatrix(user, 'search', [electronics, garden]);
    expect(sut).toHaveLength(2 * FEATURE_SPEC.dim);
    const row0 = sut.subarray(0, FEATURE_SPEC.dim);
    const row1 = sut.subarray(FEATURE_SPEC.dim);
    expect(Array.from(row0.subarray(0, FEATURE_OFFSETS['ad.category']))).toEqual(
      Array.from(row1.subarray(0, FEATURE_OFFSETS['ad.category'])),
    );
    expect(row0[FEATURE_OFFSETS['ad.category'] + topicIndex('electronics')]).toBe(1);
    expect(row1[FEATURE_OFFSETS['ad.category'] + topicIndex('garden')]).toBe(1);
  });

  it('scores the matching ad closer in the cross features', () => {
    const sut = buildFeatureMatrix(user, 'home_feed', [electronics, garden]);
    const cos = FEATURE_OFFSETS['cross.cosine'];
    expect(sut[cos]).toBeCloseTo(1, 5);
    expect(sut[FEATURE_SPEC.dim + cos]).toBeLessThan(0.9);
    expect(sut[FEATURE_OFFSETS['cross.category_interest']]).toBe(1);
  });

  it('zeroes the cosine for an unknown user', () => {
    const sut = buildFeatureMatrix({ ...user, known: false }, 'home_feed', [electronics]);
    expect(sut[FEATURE_OFFSETS['cross.cosine']]).toBe(0);
    expect(sut[FEATURE_OFFSETS['user.known']]).toBe(0);
  });

  it('rejects a profile of the wrong length with a message', () => {
    expect(() => buildFeatureMatrix({ ...user, interests: [1, 0] }, 'search', [electronics])).toThrow(
      /expected 16/,
    );
  });
});

describe(featureSpecFingerprint.name, () => {
  it('is stable for the same spec and changes with a group', () => {
    expect(featureSpecFingerprint()).toBe(featureSpecFingerprint({ ...FEATURE_SPEC }));
    const changed = {
      ...FEATURE_SPEC,
      groups: [...FEATURE_SPEC.groups, { name: 'x', dim: 1, description: '' }],
    };
    expect(featureSpecFingerprint(changed)).not.toBe(featureSpecFingerprint());
  });
});

describe(userEmbedding.name, () => {
  it('returns a unit vector of EMBEDDING_DIM', () => {
    const sut = userEmbedding(interestsIn('books'));
    expect(sut).toHaveLength(EMBEDDING_DIM);
    expect(Math.hypot(...sut)).toBeCloseTo(1, 5);
  });
});
