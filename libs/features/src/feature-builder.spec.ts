import { describe, expect, it } from '@jest/globals';
import { type AdFeatureInput, buildFeatureMatrix, featureRequestOf } from './feature-builder.js';
import { FEATURE_OFFSETS, FEATURE_SPEC, featureSpecFingerprint } from './feature-spec.js';
import { EMBEDDING_DIM } from './content-embedding.js';
import { TOPIC_COUNT, topicIndex } from './topics.js';

function oneHot(index: number, length: number): Float32Array {
  const v = new Float32Array(length);
  v[index] = 1;
  return v;
}

function affinityFor(topic: string): Float32Array {
  return oneHot(topicIndex(topic), TOPIC_COUNT);
}

function countsFor(topic: string, n: number): number[] {
  return Array.from(affinityFor(topic), (v) => v * n);
}

const O = FEATURE_OFFSETS;

describe(buildFeatureMatrix.name, () => {
  const earbuds: AdFeatureInput = {
    id: 11,
    advertiserId: 3,
    categoryIndex: topicIndex('electronics'),
    embedding: oneHot(0, EMBEDDING_DIM),
    title: 'Nova Labs wireless earbuds',
    text: 'Wireless earbuds: free shipping',
  };
  const hose: AdFeatureInput = {
    id: 12,
    advertiserId: 4,
    categoryIndex: topicIndex('garden'),
    embedding: oneHot(1, EMBEDDING_DIM),
    title: 'Wild Co garden hose',
    text: 'Garden hose: new arrivals',
  };
  const user = {
    interests: affinityFor('electronics'),
    device: 'mobile' as const,
    known: true,
    activity: {
      impressionsByCategory: countsFor('electronics', 9),
      clicksByCategory: countsFor('electronics', 2),
      hidesByCategory: countsFor('garden', 1),
      recentAdIds: [11],
      recentAdvertiserIds: [3],
    },
  };

  it('lays out one row of FEATURE_SPEC.dim per ad with the user part repeated', () => {
    const sut = buildFeatureMatrix({ user, surface: 'search' }, [earbuds, hose]);
    expect(sut).toHaveLength(2 * FEATURE_SPEC.dim);
    const row0 = sut.subarray(0, FEATURE_SPEC.dim);
    const row1 = sut.subarray(FEATURE_SPEC.dim);
    expect(Array.from(row0.subarray(0, O['ad.category']))).toEqual(
      Array.from(row1.subarray(0, O['ad.category'])),
    );
    expect(row0[O['ad.category'] + topicIndex('electronics')]).toBe(1);
    expect(row1[O['ad.category'] + topicIndex('garden')]).toBe(1);
    expect(row0[O['user.activity']]).toBeCloseTo(Math.log1p(9));
    expect(row0[O['user.activity'] + 1]).toBeCloseTo(Math.log1p(2));
    expect(row0[O['user.activity'] + 2]).toBeCloseTo(Math.log1p(1));
  });

  it('reads the category affinity, exposure and hides of the ad category', () => {
    const sut = buildFeatureMatrix({ user, surface: 'home_feed' }, [earbuds, hose]);
    const second = FEATURE_SPEC.dim;
    expect(sut[O['cross.category_affinity']]).toBe(1);
    expect(sut[second + O['cross.category_affinity']]).toBe(0);
    expect(sut[O['cross.category_exposure']]).toBeCloseTo(Math.log1p(9));
    expect(sut[second + O['cross.category_exposure'] + 1]).toBeCloseTo(Math.log1p(1));
  });

  it("writes the ad's category mixture and the user's affinity over it", () => {
    const mixture = new Float32Array(TOPIC_COUNT);
    mixture[topicIndex('electronics')] = 0.25;
    mixture[topicIndex('garden')] = 0.75;
    const interests = new Float32Array(TOPIC_COUNT);
    interests[topicIndex('electronics')] = 0.6;
    interests[topicIndex('garden')] = 0.4;
    const sut = buildFeatureMatrix(
      {
        user: { ...user, interests },
        surface: 'home_feed',
        categoryMixtures: new Map([[hose.id!, oneHot(topicIndex('sports'), TOPIC_COUNT)]]),
      },
      [{ ...earbuds, categoryMixture: mixture }, hose],
    );
    const second = FEATURE_SPEC.dim;
    const mixtureOf = (at: number) =>
      Array.from(sut.subarray(at + O['ad.category_mixture'], at + O['ad.category_mixture'] + TOPIC_COUNT));
    expect(mixtureOf(0)).toEqual(Array.from(mixture));
    expect(sut[O['cross.interest_match']]).toBeCloseTo(0.25 * 0.6 + 0.75 * 0.4);
    expect(sut[O['cross.category_affinity']]).toBeCloseTo(0.6);
    // Without its own, the ad's mixture is the request's of its id.
    expect(mixtureOf(second)).toEqual(Array.from(oneHot(topicIndex('sports'), TOPIC_COUNT)));
    expect(sut[second + O['cross.interest_match']]).toBe(0);
  });

  it('takes the one-hot of the declared category for the mixture of an ad without one', () => {
    const sut = buildFeatureMatrix({ user, surface: 'home_feed' }, [earbuds, hose]);
    const at = O['ad.category_mixture'];
    expect(Array.from(sut.subarray(at, at + TOPIC_COUNT))).toEqual(Array.from(affinityFor('electronics')));
    expect(sut[O['cross.interest_match']]).toBe(sut[O['cross.category_affinity']]);
    expect(() =>
      buildFeatureMatrix({ user, surface: 'home_feed' }, [{ ...earbuds, categoryMixture: [1] }]),
    ).toThrow('ad category mixture has 1 entries, expected 16');
  });

  it('marks the ad and the advertiser the user engaged with, and the cosine to what they engaged with', () => {
    const sut = buildFeatureMatrix({ user, surface: 'home_feed', recentAds: [earbuds] }, [earbuds, hose]);
    const second = FEATURE_SPEC.dim;
    expect([sut[O['cross.engaged']], sut[O['cross.engaged'] + 1]]).toEqual([1, 1]);
    expect([sut[second + O['cross.engaged']], sut[second + O['cross.engaged'] + 1]]).toEqual([0, 0]);
    expect(sut[O['cross.recent_cosine']]).toBeCloseTo(1);
    expect(sut[second + O['cross.recent_cosine']]).toBeCloseTo(0);
  });

  it("matches the query's words against the ad's title and text", () => {
    const sut = buildFeatureMatrix({ user, surface: 'search', query: 'Wireless earbuds case' }, [
      earbuds,
      hose,
    ]);
    expect(sut[O['cross.query_match']]).toBeCloseTo(2 / 3);
    expect(sut[O['cross.query_match'] + 1]).toBeCloseTo(2 / 3);
    expect(sut[FEATURE_SPEC.dim + O['cross.query_match']]).toBe(0);
  });

  it('compares every ad with the context item', () => {
    const sut = buildFeatureMatrix({ user, surface: 'related_items', contextAd: hose }, [earbuds, hose]);
    const second = FEATURE_SPEC.dim;
    expect([sut[O['cross.context']], sut[O['cross.context'] + 1]]).toEqual([0, 0]);
    expect(sut[second + O['cross.context']]).toBeCloseTo(1);
    expect(sut[second + O['cross.context'] + 1]).toBe(1);
  });

  it('leaves every activity feature 0 for a user without activity', () => {
    const cold = { interests: new Float32Array(TOPIC_COUNT), device: 'desktop' as const, known: false };
    const sut = buildFeatureMatrix({ user: cold, surface: 'home_feed' }, [earbuds]);
    expect(sut[O['user.known']]).toBe(0);
    for (const name of ['user.activity', 'cross.recent_cosine', 'cross.category_exposure', 'cross.engaged']) {
      expect(sut[O[name]]).toBe(0);
    }
  });

  it('rejects an affinity or activity of the wrong length with a message', () => {
    expect(() =>
      buildFeatureMatrix({ user: { ...user, interests: [1, 0] }, surface: 'search' }, [earbuds]),
    ).toThrow(/expected 16/);
    const activity = { ...user.activity, hidesByCategory: [0] };
    expect(() => buildFeatureMatrix({ user: { ...user, activity }, surface: 'search' }, [earbuds])).toThrow(
      'user activity hidesByCategory has 1 entries, expected 16',
    );
  });
});

describe(featureRequestOf.name, () => {
  it('looks up the recently engaged ads that still exist and the context item', () => {
    const ad = (id: number): AdFeatureInput & { id: number } => ({
      id,
      categoryIndex: 0,
      embedding: oneHot(id, EMBEDDING_DIM),
    });
    const ads = [5, 6, 7].map(ad);
    const catalog = { ads, byId: new Map(ads.map((a) => [a.id, a])) };
    const user = {
      interests: new Float32Array(TOPIC_COUNT),
      device: 'mobile' as const,
      known: true,
      activity: {
        impressionsByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        clicksByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        hidesByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        recentAdIds: [7, 99, 5],
        recentAdvertiserIds: [],
      },
    };

    const sut = featureRequestOf(user, 'related_items', { contextAdId: 6, query: undefined }, catalog);

    expect(sut.recentAds).toEqual([ad(7), ad(5)]);
    expect(sut.contextAd).toEqual(ad(6));
  });

  it("carries the catalog's category mixtures, decoded once per snapshot", () => {
    const ads = [0, 1, 2].map((id) => ({ id, categoryIndex: id, embedding: oneHot(id, EMBEDDING_DIM) }));
    const catalog = { ads, byId: new Map(ads.map((a) => [a.id, a])) };
    const cold = { interests: new Float32Array(TOPIC_COUNT), device: 'mobile' as const, known: false };
    const mixturesOf = (c: typeof catalog) => featureRequestOf(cold, 'home_feed', {}, c).categoryMixtures;

    const sut = mixturesOf(catalog);

    expect(Array.from(sut!.get(1)!)).toEqual(Array.from(oneHot(1, TOPIC_COUNT)));
    expect(mixturesOf(catalog)).toBe(sut);
    expect(mixturesOf({ ...catalog, ads: [...ads] })).not.toBe(sut);
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

describe('FEATURE_SPEC', () => {
  it('is v3: v2 (84 floats) with the category mixture and the interest match, 101 floats', () => {
    expect(FEATURE_SPEC.version).toBe(3);
    expect(FEATURE_SPEC.dim).toBe(84 + TOPIC_COUNT + 1);
    expect(O['ad.category_mixture']).toBe(O['ad.category'] + TOPIC_COUNT);
    expect(O['cross.interest_match']).toBe(O['cross.category_affinity'] + 1);
  });
});
