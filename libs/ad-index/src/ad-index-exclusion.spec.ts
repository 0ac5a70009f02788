import { beforeAll, describe, expect, it } from '@jest/globals';
import { EMBEDDING_DIM } from '@adfunnel/features';
import { Rng } from '@adfunnel/simulator';
import { AdIndex, type IndexableAd } from './ad-index.js';

const CAMPAIGNS = 40;

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

/** `count` ads spread over CAMPAIGNS campaigns, bids rising with the campaign id; the last ten only in JP. */
function adsFactory(seed: number, count: number): IndexableAd[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const campaignId = 1 + (i % CAMPAIGNS);
    return {
      id: i + 1,
      status: 'active',
      embedding: randomUnit(rng),
      campaign: {
        id: campaignId,
        status: 'active',
        bidType: 'CPM',
        bid: campaignId,
        targetCountries: campaignId > CAMPAIGNS - 10 ? ['JP'] : [],
        targetDevices: [],
      },
    };
  });
}

/** The exact top k of the ads a US request may see outside the excluded campaigns. */
function bruteForce(
  ads: readonly IndexableAd[],
  query: Float32Array,
  exclude: ReadonlySet<number>,
  k: number,
) {
  return ads
    .filter((ad) => ad.campaign.targetCountries.length === 0 && !exclude.has(ad.campaign.id))
    .map((ad) => {
      let s = 0;
      for (let d = 0; d < EMBEDDING_DIM; d++) s += query[d] * ad.embedding[d];
      return { id: ad.id, score: s };
    })
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k)
    .map((r) => r.id);
}

describe(`${AdIndex.name} with excluded campaigns`, () => {
  const ads = adsFactory(71, 4000);
  const campaignOf = new Map(ads.map((ad) => [ad.id, ad.campaign.id]));
  const us = { country: 'US', device: 'mobile' };
  const usEligible = ads.filter((ad) => ad.campaign.targetCountries.length === 0).length;
  let exact: AdIndex;
  let hnsw: AdIndex;

  beforeAll(() => {
    exact = AdIndex.build(ads, { catalogVersion: 'v1', exactThreshold: 100_000 });
    hnsw = AdIndex.build(ads, { catalogVersion: 'v1', exactThreshold: 0 });
  });

  /** The campaigns of the first few ads the request would get without exclusions. */
  const topCampaigns = (index: AdIndex, embedding: Float32Array, n: number) =>
    new Set(
      index
        .search({ embedding, ...us, k: 20 })
        .adIds.map((id) => campaignOf.get(id)!)
        .slice(0, n),
    );

  it('leaves the excluded campaigns out of an exact scan and returns the true nearest of the rest', () => {
    const embedding = randomUnit(new Rng(72));
    const excludeCampaigns = topCampaigns(exact, embedding, 3);
    expect(excludeCampaigns.size).toBeGreaterThan(0);

    const result = exact.search({ embedding, ...us, k: 50, excludeCampaigns });

    expect(result.sources).toEqual(Array(50).fill('exact'));
    expect(result.adIds).toEqual(bruteForce(ads, embedding, excludeCampaigns, 50));
    expect(result.eligible).toBe(usEligible - excludeCampaigns.size * (ads.length / CAMPAIGNS));
  });

  it('leaves the excluded campaigns out of an HNSW search and still fills k with near ads', () => {
    const embedding = randomUnit(new Rng(73));
    const excludeCampaigns = topCampaigns(hnsw, embedding, 5);

    const result = hnsw.search({ embedding, ...us, k: 100, excludeCampaigns });

    expect(result.sources).toEqual(Array(100).fill('ann'));
    expect(result.adIds.filter((id) => excludeCampaigns.has(campaignOf.get(id)!))).toEqual([]);
    const truth = new Set(bruteForce(ads, embedding, excludeCampaigns, 100));
    expect(result.adIds.filter((id) => truth.has(id)).length).toBeGreaterThanOrEqual(90);
  });

  it('leaves the excluded campaigns out of the popular list, keeping its order', () => {
    const all = exact.popular({ ...us, k: 500 });
    const excludeCampaigns = new Set([campaignOf.get(all.adIds[0])!]);

    const result = exact.popular({ ...us, k: 100, excludeCampaigns });

    expect(result.adIds).toEqual(
      all.adIds.filter((id) => !excludeCampaigns.has(campaignOf.get(id)!)).slice(0, 100),
    );
    expect(result.eligible).toBe(usEligible - ads.length / CAMPAIGNS);
  });

  it('counts only excluded ads the request could have seen', () => {
    const embedding = randomUnit(new Rng(74));
    // Campaign 40 targets JP only and campaign 999 is not in the catalog: nothing a US request loses.
    const result = exact.search({ embedding, ...us, k: 10, excludeCampaigns: new Set([CAMPAIGNS, 999]) });
    expect(result.eligible).toBe(usEligible);
    expect(result.adIds).toEqual(exact.search({ embedding, ...us, k: 10 }).adIds);
  });

  it('answers nothing when every campaign the request may see is excluded', () => {
    const everyCampaign = new Set(Array.from({ length: CAMPAIGNS }, (_, i) => i + 1));
    for (const index of [exact, hnsw]) {
      const result = index.search({
        embedding: randomUnit(new Rng(75)),
        ...us,
        k: 10,
        excludeCampaigns: everyCampaign,
      });
      expect(result).toEqual({ adIds: [], scores: [], sources: [], eligible: 0 });
    }
    expect(exact.popular({ ...us, k: 10, excludeCampaigns: everyCampaign }).adIds).toEqual([]);
  });
});
