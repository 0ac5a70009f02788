import { describe, it, expect, beforeAll } from '@jest/globals';
import { COUNTRIES, DEVICES, type BidType } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from '@adfunnel/features';
import {
  Rng,
  adAt,
  campaignAt,
  campaignCount,
  embedTopicMixture,
  userAt,
  type MarketplaceSpec,
} from '@adfunnel/simulator';
import { DEFAULT_PREDICTION_PRIORS, valuePerImpression, type PredictionPriors } from '@adfunnel/utility';
import { AdIndex, POPULAR_PER_CAMPAIGN, type IndexableAd, type RetrievalResult } from './ad-index.js';

type TestCampaign = IndexableAd['campaign'];

/** Catalog-shaped ads from the simulator: real targeting mixes, statuses and bids. */
function marketplaceAds(spec: MarketplaceSpec): IndexableAd[] {
  const campaigns = Array.from({ length: campaignCount(spec) }, (_, i) => campaignAt(spec, i));
  return Array.from({ length: spec.ads }, (_, i) => {
    const ad = adAt(spec, i);
    // Every 25th ad is paused on its own, inside whatever state its campaign is in.
    const status = ad.id % 25 === 0 ? 'paused' : 'active';
    return { id: ad.id, status, embedding: ad.embedding, campaign: campaigns[ad.campaignId - 1] };
  });
}

function randomUnit(rng: Rng): Float32Array {
  const v = new Float32Array(EMBEDDING_DIM);
  let norm = 0;
  for (let d = 0; d < EMBEDDING_DIM; d++) {
    v[d] = rng.normal();
    norm += v[d] * v[d];
  }
  for (let d = 0; d < EMBEDDING_DIM; d++) v[d] /= Math.sqrt(norm);
  return v;
}

function campaign(id: number, overrides: Partial<TestCampaign> = {}): TestCampaign {
  return {
    id,
    status: 'active',
    bidType: 'CPM',
    bid: 4,
    targetCountries: [],
    targetDevices: [],
    ...overrides,
  };
}

/** `count` ads with random unit embeddings; campaign `campaignOf(i)` for the i-th. */
function randomAds(
  seed: number,
  count: number,
  campaignOf: (i: number) => TestCampaign,
  firstId = 1,
): IndexableAd[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => ({
    id: firstId + i,
    status: 'active',
    embedding: randomUnit(rng),
    campaign: campaignOf(i),
  }));
}

function isEligible(ad: IndexableAd, country: string, device: string): boolean {
  const c = ad.campaign;
  return (
    ad.status === 'active' &&
    c.status === 'active' &&
    (c.targetCountries.length === 0 || c.targetCountries.includes(country)) &&
    (c.targetDevices.length === 0 || c.targetDevices.includes(device))
  );
}

function bruteForce(
  ads: readonly IndexableAd[],
  query: Float32Array,
  country: string,
  device: string,
  k: number,
) {
  return ads
    .filter((ad) => isEligible(ad, country, device))
    .map((ad) => {
      let s = 0;
      for (let d = 0; d < EMBEDDING_DIM; d++) s += query[d] * ad.embedding[d];
      return { id: ad.id, score: s };
    })
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k);
}

function expectBestFirst(result: RetrievalResult): void {
  for (let i = 1; i < result.scores.length; i++) {
    expect(result.scores[i]).toBeLessThanOrEqual(result.scores[i - 1]);
  }
}

describe(AdIndex.name, () => {
  describe('targeting on the demo marketplace', () => {
    const spec: MarketplaceSpec = {
      seed: 7,
      advertisers: 60,
      campaignsPerAdvertiser: 3,
      ads: 3000,
      users: 50,
    };
    let ads: IndexableAd[];
    let byId: Map<number, IndexableAd>;
    const requests = [...COUNTRIES, 'ZZ'].flatMap((country) =>
      DEVICES.map((device) => ({ country, device })),
    );

    beforeAll(() => {
      ads = marketplaceAds(spec);
      byId = new Map(ads.map((ad) => [ad.id, ad]));
    });

    it.each([
      ['ann', 0],
      ['exact', 1_000_000],
    ])('returns only active, targeted ads on the %s path', (source, exactThreshold) => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1', exactThreshold });

      for (const [i, { country, device }] of requests.entries()) {
        const embedding = embedTopicMixture(userAt(spec, i % spec.users).interests);
        const result = sut.search({ embedding, country, device, k: 200 });

        const expectedEligible = ads.filter((ad) => isEligible(ad, country, device)).length;
        expect(result.eligible).toBe(expectedEligible);
        expect(result.adIds).toHaveLength(Math.min(200, expectedEligible));
        expect(new Set(result.adIds).size).toBe(result.adIds.length);
        expect(result.adIds.every((id) => isEligible(byId.get(id)!, country, device))).toBe(true);
        expect(result.sources.every((s) => s === source)).toBe(true);
        expectBestFirst(result);
      }
    });

    it('indexes only active ads of active campaigns', () => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1' });

      const pausedCampaign = ads.filter((ad) => ad.campaign.status !== 'active').length;
      const pausedAd = ads.filter((ad) => ad.status !== 'active' && ad.campaign.status === 'active').length;
      expect(pausedCampaign).toBeGreaterThan(0);
      expect(pausedAd).toBeGreaterThan(0);
      expect(sut.size).toBe(ads.length - pausedCampaign - pausedAd);
    });

    it('serves countries no campaign names from the untargeted campaigns only', () => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1' });

      const result = sut.search({
        embedding: embedTopicMixture(userAt(spec, 0).interests),
        country: 'ZZ',
        device: 'mobile',
        k: 2000,
      });

      expect(result.adIds.length).toBeGreaterThan(0);
      expect(result.adIds.every((id) => byId.get(id)!.campaign.targetCountries.length === 0)).toBe(true);
    });
  });

  describe('ANN recall', () => {
    it('finds at least 95% of the exact top 100 over 10,000 random unit vectors', () => {
      const ads = randomAds(11, 10_000, (i) => campaign(1 + (i % 500)));
      const sut = AdIndex.build(ads, { catalogVersion: 'v1', exactThreshold: 0, efSearch: 128 });
      const rng = new Rng(12);

      let hits = 0;
      const queries = 50;
      for (let q = 0; q < queries; q++) {
        const embedding = randomUnit(rng);
        const result = sut.search({ embedding, country: 'US', device: 'mobile', k: 100 });
        const truth = new Set(bruteForce(ads, embedding, 'US', 'mobile', 100).map((r) => r.id));

        expect(result.sources.every((s) => s === 'ann')).toBe(true);
        hits += result.adIds.filter((id) => truth.has(id)).length;
      }

      expect(hits / (queries * 100)).toBeGreaterThanOrEqual(0.95);
    });
  });

  describe('exact path', () => {
    // 5,000 ads for everyone plus 300 that only Japanese tablets may see besides.
    const broad = randomAds(21, 5000, (i) => campaign(1 + (i % 50), { targetCountries: ['US', 'GB'] }));
    const narrow = randomAds(
      22,
      300,
      (i) => campaign(100 + (i % 3), { targetCountries: ['JP'], targetDevices: ['tablet'] }),
      10_001,
    );
    const ads = [...broad, ...narrow];

    it('scans a selective eligible set exactly and returns the true nearest ads', () => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1', exactThreshold: 2000 });
      const embedding = randomUnit(new Rng(23));

      const result = sut.search({ embedding, country: 'JP', device: 'tablet', k: 50 });

      expect(result.eligible).toBe(300);
      expect(result.sources).toEqual(Array(50).fill('exact'));
      const truth = bruteForce(ads, embedding, 'JP', 'tablet', 50);
      expect(result.adIds).toEqual(truth.map((r) => r.id));
      result.scores.forEach((score, i) => expect(score).toBeCloseTo(truth[i].score, 5));
    });

    it('uses HNSW once the eligible set reaches the threshold', () => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1', exactThreshold: 2000 });

      const result = sut.search({
        embedding: randomUnit(new Rng(24)),
        country: 'US',
        device: 'desktop',
        k: 50,
      });

      expect(result.eligible).toBe(5000);
      expect(result.sources).toEqual(Array(50).fill('ann'));
    });
  });

  describe('k larger than the eligible set', () => {
    const ads = [
      ...randomAds(31, 3000, (i) => campaign(1 + (i % 30), { targetDevices: ['desktop'] })),
      ...randomAds(32, 40, () => campaign(99, { targetDevices: ['tablet'] }), 5001),
    ];
    const tabletIds = ads.filter((ad) => ad.campaign.targetDevices.includes('tablet')).map((ad) => ad.id);

    it.each([0, 2000])('returns every eligible ad once (exactThreshold %i)', (exactThreshold) => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1', exactThreshold });

      const result = sut.search({
        embedding: randomUnit(new Rng(33)),
        country: 'FR',
        device: 'tablet',
        k: 500,
      });

      expect(result.eligible).toBe(40);
      expect([...result.adIds].sort((a, b) => a - b)).toEqual(tabletIds);
      expectBestFirst(result);
    });

    it('returns nothing when no ad is eligible', () => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1' });

      const result = sut.search({
        embedding: randomUnit(new Rng(34)),
        country: 'FR',
        device: 'mobile',
        k: 10,
      });

      expect(result).toEqual({ adIds: [], scores: [], sources: [], eligible: 0 });
    });
  });

  describe('cold start', () => {
    const bids: [BidType, number][] = [
      ['CPM', 4],
      ['CPC', 0.6],
      ['CPA', 15],
      ['CPM', 9],
      ['CPC', 2],
    ];
    const ads = randomAds(41, 500, (i) => {
      const [bidType, bid] = bids[i % bids.length];
      return campaign(1 + (i % bids.length), { bidType, bid, targetCountries: i % 10 === 0 ? ['DE'] : [] });
    });
    /** The auction's value of ad `id` at the priors; the i-th ad (id i + 1) bids bids[i % 5]. */
    const valueAt = (priors: PredictionPriors) => (id: number) => {
      const [bidType, bid] = bids[(id - 1) % bids.length];
      return valuePerImpression({ bidType, bid, ...priors });
    };
    const byValue = (value: (id: number) => number, k: number) =>
      ads
        .filter((ad) => isEligible(ad, 'US', 'mobile'))
        .map((ad) => ad.id)
        .sort((a, b) => value(b) - value(a) || a - b)
        .slice(0, k);
    /** byValue, at most POPULAR_PER_CAMPAIGN per campaign first, then the others in value order. */
    const byValueSpread = (value: (id: number) => number, k: number) => {
      const campaignOf = new Map(ads.map((ad) => [ad.id, ad.campaign.id]));
      const ranked = byValue(value, ads.length);
      const taken = new Map<number, number>();
      const first: number[] = [];
      const rest: number[] = [];
      for (const id of ranked) {
        const n = taken.get(campaignOf.get(id)!) ?? 0;
        if (n < POPULAR_PER_CAMPAIGN) {
          taken.set(campaignOf.get(id)!, n + 1);
          first.push(id);
        } else rest.push(id);
      }
      return [...first, ...rest].slice(0, k);
    };

    it('ranks eligible ads by expected value per impression when the user has no interests, a few per campaign first', () => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1' });
      const embedding = new Float32Array(EMBEDDING_DIM);

      const result = sut.search({ embedding, country: 'US', device: 'mobile', k: 250 });

      expect(result.sources).toEqual(Array(250).fill('popular'));
      expect(result.eligible).toBe(450);
      const value = valueAt(DEFAULT_PREDICTION_PRIORS);
      const expected = byValueSpread(value, 250);
      expect(result.adIds).toEqual(expected);
      expect(result.scores).toEqual(expected.map(value));
      expect(expected).not.toEqual(byValue(value, 250));
    });

    it('values the popular list at the priors it is given', () => {
      // A tenth of the default click rate puts both CPM campaigns above every CPC and CPA one.
      const priors = { pCtr: 0.001, pCvr: 0.05 };
      const sut = AdIndex.build(ads, { catalogVersion: 'v1', priors });

      const result = sut.popular({ country: 'US', device: 'mobile', k: 250 });

      const value = valueAt(priors);
      const expected = byValueSpread(value, 250);
      expect(result.adIds).toEqual(expected);
      expect(result.adIds).not.toEqual(byValueSpread(valueAt(DEFAULT_PREDICTION_PRIORS), 250));
      expect(result.scores).toEqual(expected.map(value));
    });

    it('respects targeting and is the same on every call', () => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1' });

      const first = sut.popular({ country: 'DE', device: 'tablet', k: 1000 });
      const second = sut.popular({ country: 'DE', device: 'tablet', k: 1000 });

      expect(first.adIds).toHaveLength(500);
      expect(second).toEqual(first);
    });
  });

  describe('lifecycle and input checks', () => {
    const ads = randomAds(51, 1200, (i) =>
      campaign(1 + (i % 12), { status: i % 12 === 0 ? 'paused' : 'active' }),
    );

    it('builds the same index in slices as in one go, and versions it by snapshot and build time', async () => {
      const whole = AdIndex.build(ads, { catalogVersion: 'snap-7', exactThreshold: 0 });
      const sliced = await AdIndex.buildInSlices(ads, {
        catalogVersion: 'snap-7',
        exactThreshold: 0,
        sliceSize: 100,
      });
      const query = { embedding: randomUnit(new Rng(52)), country: 'US', device: 'mobile', k: 100 };

      expect(sliced.search(query)).toEqual(whole.search(query));
      expect(sliced.size).toBe(1100);
      expect(sliced.version).toBe(`snap-7@${sliced.builtAt.toISOString()}`);
    });

    it('rejects a query of the wrong dimension or an invalid k', () => {
      const sut = AdIndex.build(ads, { catalogVersion: 'v1' });

      expect(() =>
        sut.search({ embedding: new Float32Array(8), country: 'US', device: 'mobile', k: 10 }),
      ).toThrow('query embedding has 8 dimensions, expected 32');
      expect(() =>
        sut.search({ embedding: randomUnit(new Rng(1)), country: 'US', device: 'mobile', k: 0 }),
      ).toThrow('k must be a positive integer, got 0');
    });

    it('names the ad when the catalog is malformed', () => {
      const bad = [...ads.slice(0, 10), { ...ads[1], id: 9999, embedding: new Float32Array(EMBEDDING_DIM) }];
      expect(() => AdIndex.build(bad, { catalogVersion: 'v1' })).toThrow('ad 9999 has an all-zero embedding');

      const duplicate = [...ads.slice(0, 10), ads[3]];
      expect(() => AdIndex.build(duplicate, { catalogVersion: 'v1' })).toThrow(
        'ad 4 appears twice in the catalog',
      );

      const oddBid = [{ ...ads[1], campaign: campaign(5, { bidType: 'CPV' }) }];
      expect(() => AdIndex.build(oddBid, { catalogVersion: 'v1' })).toThrow(
        'campaign 5 has unknown bid type "CPV"',
      );
    });

    it('serves an empty catalog with empty answers', () => {
      const sut = AdIndex.build([], { catalogVersion: 'empty' });

      expect(sut.size).toBe(0);
      expect(
        sut.search({ embedding: randomUnit(new Rng(2)), country: 'US', device: 'mobile', k: 10 }).adIds,
      ).toEqual([]);
    });
  });
});
