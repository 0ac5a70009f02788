import { describe, expect, it } from '@jest/globals';
import { Rng } from '@adfunnel/simulator';
import { AdIndex, planStrategies, type IndexableAd } from './ad-index.js';

function randomUnit(rng: Rng, dim: number): Float32Array {
  const v = new Float32Array(dim);
  let norm = 0;
  for (let d = 0; d < dim; d++) {
    v[d] = rng.normal();
    norm += v[d] * v[d];
  }
  for (let d = 0; d < dim; d++) v[d] /= Math.sqrt(norm);
  return v;
}

/** 3,000 ads of `dim` dimensions: every ad in US, a fifth also in GB, 1 in 50 also in JP. */
function adsFactory(seed: number, dim: number, count = 3000): IndexableAd[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const targetCountries = i % 50 === 0 ? ['US', 'GB', 'JP'] : i % 5 === 0 ? ['US', 'GB'] : ['US'];
    return {
      id: i + 1,
      status: 'active',
      embedding: randomUnit(rng, dim),
      campaign: {
        id: 1 + (i % 30),
        status: 'active',
        bidType: 'CPM',
        bid: 2,
        targetCountries,
        targetDevices: [],
      },
    };
  });
}

function exactTop(ads: readonly IndexableAd[], query: Float32Array, country: string, k: number): number[] {
  return ads
    .filter((ad) => ad.campaign.targetCountries.includes(country))
    .map((ad) => {
      let s = 0;
      for (let d = 0; d < query.length; d++) s += query[d] * ad.embedding[d];
      return { id: ad.id, s };
    })
    .sort((a, b) => b.s - a.s || a.id - b.id)
    .slice(0, k)
    .map((r) => r.id);
}

describe(planStrategies.name, () => {
  const limits = { exactThreshold: 100, maxShare: 0.5, budget: 1 };

  it('scans small buckets, gives mid-sized ones a graph and serves the rest from the catalog graph', () => {
    expect(planStrategies([0, 99, 100, 400, 500, 700, 1000], 1000, limits)).toEqual([
      'exact',
      'exact',
      'bucket-graph',
      'bucket-graph',
      'bucket-graph',
      'graph',
      'graph',
    ]);
  });

  it('fills the bucket-graph budget smallest bucket first and filters the catalog graph for the rest', () => {
    expect(planStrategies([400, 300, 450, 200], 1000, { ...limits, budget: 0.55 })).toEqual([
      'filtered-graph',
      'bucket-graph',
      'filtered-graph',
      'bucket-graph',
    ]);
    expect(planStrategies([400, 600], 1000, { ...limits, maxShare: 0 })).toEqual(['filtered-graph', 'graph']);
  });
});

describe(`${AdIndex.name} dimension and strategies`, () => {
  const dim = 64;
  const ads = adsFactory(81, dim);

  it('indexes vectors of the dimension it is given and searches each bucket the planned way', () => {
    const sut = AdIndex.build(ads, { catalogVersion: 'v1', dim, exactThreshold: 100 });

    expect(sut.dim).toBe(dim);
    expect(sut.strategyFor('US', 'mobile')).toBe('graph');
    expect(sut.strategyFor('GB', 'mobile')).toBe('bucket-graph');
    expect(sut.strategyFor('JP', 'mobile')).toBe('exact');
    const query = randomUnit(new Rng(82), dim);
    for (const [country, eligible] of [
      ['US', 3000],
      ['GB', 600],
      ['JP', 60],
    ] as const) {
      const result = sut.search({ embedding: query, country, device: 'tablet', k: 50 });
      expect(result.eligible).toBe(eligible);
      const truth = new Set(exactTop(ads, query, country, 50));
      expect(result.adIds.filter((id) => truth.has(id)).length).toBeGreaterThanOrEqual(48);
    }
  });

  it('answers the true top k of an exactly scanned bucket, in order, with campaigns excluded or not', () => {
    const sut = AdIndex.build(ads, { catalogVersion: 'v1', dim, exactThreshold: 1_000_000 });
    const rng = new Rng(83);
    for (const country of ['US', 'GB', 'JP'] as const) {
      expect(sut.strategyFor(country, 'mobile')).toBe('exact');
      for (const excludeCampaigns of [new Set<number>(), new Set([1, 2, 3])]) {
        const query = randomUnit(rng, dim);
        // Brute force over the index's own (re-normalized) vectors.
        const score = (id: number) => {
          const v = sut.vectorOf(id)!.vector;
          let s = 0;
          for (let d = 0; d < dim; d++) s += query[d] * v[d];
          return s;
        };
        const ranked = ads
          .filter((ad) => ad.campaign.targetCountries.includes(country))
          .filter((ad) => !excludeCampaigns.has(ad.campaign.id))
          .map((ad) => ad.id)
          .sort((a, b) => score(b) - score(a) || a - b);
        for (const k of [1, 37, 200, ranked.length]) {
          const result = sut.search({ embedding: query, country, device: 'mobile', k, excludeCampaigns });

          expect(result.adIds).toEqual(ranked.slice(0, k));
          expect(result.sources).toEqual(Array(Math.min(k, ranked.length)).fill('exact'));
          expect(result.scores.every((s, i) => Math.abs(s - score(result.adIds[i])) < 1e-9)).toBe(true);
        }
      }
    }
  });

  it('finds the same ads through the JS filter when no bucket graph is allowed', () => {
    const sut = AdIndex.build(ads, { catalogVersion: 'v1', dim, exactThreshold: 100, bucketGraphBudget: 0 });
    const query = randomUnit(new Rng(83), dim);

    const result = sut.search({ embedding: query, country: 'GB', device: 'mobile', k: 50 });

    expect(sut.strategyFor('GB', 'mobile')).toBe('filtered-graph');
    const truth = new Set(exactTop(ads, query, 'GB', 50));
    expect(result.adIds.filter((id) => truth.has(id)).length).toBeGreaterThanOrEqual(48);
  });

  it('leaves excluded campaigns out of a bucket graph search and still fills k', () => {
    const sut = AdIndex.build(ads, { catalogVersion: 'v1', dim, exactThreshold: 100 });
    const query = randomUnit(new Rng(84), dim);
    const excludeCampaigns = new Set([1, 6, 11]);

    const result = sut.search({ embedding: query, country: 'GB', device: 'mobile', k: 50, excludeCampaigns });

    expect(result.adIds).toHaveLength(50);
    expect(result.adIds.filter((id) => excludeCampaigns.has(1 + ((id - 1) % 30)))).toEqual([]);
  });

  it('rejects vectors of another dimension and a dimension that is not a count', () => {
    const sut = AdIndex.build(ads, { catalogVersion: 'v1', dim });

    expect(() =>
      sut.search({ embedding: new Float32Array(32).fill(0.1), country: 'US', device: 'mobile', k: 10 }),
    ).toThrow('query embedding has 32 dimensions, expected 64');
    const short = [...ads.slice(0, 5), { ...ads[5], embedding: new Float32Array(32).fill(0.1) }];
    expect(() => AdIndex.build(short, { catalogVersion: 'v1', dim })).toThrow(
      'ad 6 has a 32-dimensional embedding, expected 64',
    );
    expect(() => AdIndex.build(ads, { catalogVersion: 'v1', dim: 0 })).toThrow(
      'dim must be a positive integer, got 0',
    );
    expect(() => AdIndex.build(ads, { catalogVersion: 'v1', dim, bucketGraphMaxShare: 1.5 })).toThrow(
      'bucketGraphMaxShare must be a share between 0 and 1, got 1.5',
    );
  });
});
