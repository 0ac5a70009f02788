import { beforeAll, describe, expect, it } from '@jest/globals';
import { AdIndex } from '@adfunnel/ad-index';
import type { CatalogAd } from '@adfunnel/catalog';
import type { CandidatesRequest, UserContext } from '@adfunnel/contracts';
import { TOPIC_COUNT, dot } from '@adfunnel/features';
import { SMALL_MARKETPLACE, catalogAds, knownUserContext } from '@adfunnel/testing';
import { CandidateCatalog } from './candidate-catalog.js';
import { CandidateSources, type SourceRequest } from './candidate-sources.js';
import type { QuotaSource } from './quotas.js';
import { TrendingAds, type TrendingAd, type TrendingReader } from './trending-ads.js';
import {
  ActivityUserQueryVector,
  MIN_INTEREST_AFFINITY,
  RECENT_AD_DECAY,
  affinityVector,
  interestQueries,
  recentAdsVector,
} from './user-query-vector.js';

/** The targeting rules restated from the catalog, to check every source against. */
function eligibleFor(ad: CatalogAd, user: UserContext, exclude: ReadonlySet<number>): boolean {
  const c = ad.campaign;
  return (
    ad.status === 'active' &&
    c.status === 'active' &&
    (c.targetCountries.length === 0 || c.targetCountries.includes(user.country)) &&
    (c.targetDevices.length === 0 || c.targetDevices.includes(user.device)) &&
    !exclude.has(c.id)
  );
}

/** Per-country lists as the logging side would keep them (the Redis reader is libs/user-activity's). */
class InMemoryTrending implements TrendingReader {
  constructor(private readonly lists: Record<string, TrendingAd[]>) {}
  trendingAds(country: string, limit: number): Promise<readonly TrendingAd[]> {
    return Promise.resolve((this.lists[country] ?? []).slice(0, limit));
  }
}

describe(CandidateSources.name, () => {
  const ads = catalogAds();
  const byId = new Map(ads.map((ad) => [ad.id, ad]));
  // The inferred interests without the activity they came from: each test adds the activity it needs.
  const { activity: _clicked, ...user } = knownUserContext(SMALL_MARKETPLACE, 3);
  let catalog: CandidateCatalog;
  let trending: TrendingAds;

  beforeAll(async () => {
    catalog = CandidateCatalog.build(AdIndex.build(ads, { catalogVersion: 'cat-1', exactThreshold: 0 }), ads);
    const eligibleIds = ads.filter((ad) => eligibleFor(ad, user, new Set())).map((ad) => ad.id);
    const ineligible = ads.find((ad) => !eligibleFor(ad, user, new Set()))!.id;
    trending = new TrendingAds(
      new InMemoryTrending({
        [user.country]: [
          { adId: eligibleIds[10], score: 9 },
          { adId: ineligible, score: 8 },
          { adId: eligibleIds[3], score: 5 },
        ],
      }),
      100,
      60_000,
    );
    await trending.refresh();
  });

  function run(
    source: QuotaSource,
    overrides: Partial<CandidatesRequest> = {},
    options: { excludeCampaigns?: ReadonlySet<number>; annOverfetch?: number; k?: number } = {},
  ) {
    const request: CandidatesRequest = {
      requestId: 'req-1',
      deadlineAt: Date.now() + 1000,
      user,
      surface: 'home_feed',
      limit: options.k ?? 50,
      ...overrides,
    };
    const excludeCampaigns = options.excludeCampaigns ?? new Set<number>();
    const input: SourceRequest = {
      request,
      catalog,
      eligible: catalog.eligible(request.user.country, request.user.device, excludeCampaigns),
      excludeCampaigns,
      k: request.limit,
    };
    const sources = new CandidateSources(new ActivityUserQueryVector(), trending, {
      annOverfetch: options.annOverfetch ?? 1,
      querySeeds: 10,
    });
    const answer = sources.forRequest(input)(source);
    const { adIds } = answer.candidates;
    expect(answer.candidates.scores).toHaveLength(adIds.length);
    expect(answer.candidates.sources).toHaveLength(adIds.length);
    expect(new Set(adIds).size).toBe(adIds.length);
    for (const adId of adIds) expect(eligibleFor(byId.get(adId)!, request.user, excludeCampaigns)).toBe(true);
    return answer;
  }

  const product = (ad: CatalogAd) => ad.title.split(': ')[1];
  const someProduct = product(ads[0]);

  describe('interest', () => {
    it('answers the eligible ads of highest affinity over their decoded category mixture, best first', () => {
      const answer = run('interest');

      expect(answer.candidates.adIds).toHaveLength(50);
      expect(answer.candidates.sources.every((s) => s === 'interest')).toBe(true);
      const { adIds, scores } = answer.candidates;
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      adIds.forEach((adId, i) => {
        const mixture = catalog.interests!.mixture(adId)!;
        const match = mixture.reduce((sum, w, c) => sum + w * user.interests[c], 0);
        expect(scores[i]).toBeCloseTo(match, 5);
      });
      // Every eligible ad left out scores at most the last one kept (up to the unposted weights).
      const kept = new Set(adIds);
      for (const ad of ads) {
        if (kept.has(ad.id) || !eligibleFor(ad, user, new Set())) continue;
        const mixture = catalog.interests!.mixture(ad.id)!;
        const match = mixture.reduce((sum, w, c) => sum + w * user.interests[c], 0);
        expect(match).toBeLessThanOrEqual(scores[scores.length - 1] + 0.01);
      }
    });

    it('with overfetch, keeps the best by interest match x prior value', () => {
      const answer = run('interest', {}, { annOverfetch: 4 });
      const { scores } = answer.candidates;
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it('has nothing for a user the funnel has inferred no affinity for', () => {
      const answer = run('interest', {
        user: { ...user, interests: new Array<number>(TOPIC_COUNT).fill(0) },
      });
      expect(answer.candidates.adIds).toEqual([]);
      expect(answer.note).toBe('no affinity inferred yet');
    });
  });

  describe('ann (personalized)', () => {
    const recent = ads.filter((ad) => eligibleFor(ad, user, new Set())).slice(0, 3);
    // No category stands out (each below MIN_INTEREST_AFFINITY): one vector, from the recent ads.
    const flat = new Array<number>(TOPIC_COUNT).fill(1 / TOPIC_COUNT);
    const active: UserContext = {
      ...user,
      interests: flat,
      activity: {
        impressionsByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        clicksByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        hidesByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        conversionsByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        recentAdIds: recent.map((ad) => ad.id),
        recentAdvertiserIds: [...new Set(recent.map((ad) => ad.advertiserId))],
        recentQueries: [],
        updatedAt: 0,
      },
    };

    it('searches around the recency-weighted mean of the ads the user engaged with', () => {
      const answer = run('ann', { user: active });

      expect(answer.note).toBe('recent_ads');
      expect(answer.candidates.adIds).toHaveLength(50);
      expect(answer.candidates.sources.every((s) => s === 'ann')).toBe(true);
      const scores = answer.candidates.scores;
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it('weighs the newest engaged ad most: RECENT_AD_DECAY per step back', () => {
      const [a, b] = recent;
      const vector = recentAdsVector([a.id, b.id], catalog)!;
      const expected = catalog
        .ad(a.id)!
        .embedding.map((x, d) => x + RECENT_AD_DECAY * catalog.ad(b.id)!.embedding[d]);
      const norm = Math.sqrt(dot(expected, expected));

      vector.forEach((x, d) => expect(x).toBeCloseTo(expected[d] / norm, 5));
      expect(
        run('ann', { user: { ...active, activity: { ...active.activity!, recentAdIds: [a.id] } } }).candidates
          .adIds[0],
      ).toBe(a.id);
      expect(recentAdsVector([999_999], catalog)).toBeNull();
    });

    it('uses the inferred affinity over the catalog category centroids without recent ads, and the popular list without either', () => {
      expect(run('ann', { user: { ...user, interests: flat } }).note).toBe('affinity');
      const only = new Array<number>(TOPIC_COUNT).fill(0);
      only[3] = 1;
      expect(affinityVector(only, catalog)).toEqual(catalog.categoryCentroid(3));
      expect(affinityVector(new Array<number>(TOPIC_COUNT).fill(0), catalog)).toBeNull();
      const cold = { ...user, known: false, interests: new Array<number>(TOPIC_COUNT).fill(0) };
      const answer = run('ann', { user: cold });

      expect(answer.note).toBe('no activity: popular');
      expect(answer.candidates.adIds).toEqual(run('popular').candidates.adIds);
    });

    it('with over-fetching, keeps the best by similarity x prior value among more neighbours', () => {
      const plain = run('ann', { user: active }, { k: 200 });
      const valued = run('ann', { user: active }, { annOverfetch: 3, k: 50 });

      const eligible = catalog.eligible(user.country, user.device);
      const scores = valued.candidates.scores;
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      const vector = recentAdsVector(active.activity!.recentAdIds, catalog)!;
      valued.candidates.adIds.forEach((adId, i) => {
        const similarity = dot(catalog.ad(adId)!.embedding, vector);
        expect(scores[i]).toBeCloseTo(similarity * eligible.prior(adId), 5);
      });
      // Not simply the 50 nearest: some come from further down the 150 nearest.
      expect(valued.candidates.adIds.some((id) => plain.candidates.adIds.indexOf(id) >= 50)).toBe(true);
    });
  });

  describe('ann around several interests', () => {
    const categoryOf = (adId: number) => catalog.ad(adId)!.categoryIndex;
    const twoInterests = () => {
      const counts = new Map<number, number>();
      for (const ad of ads.filter((a) => eligibleFor(a, user, new Set())))
        counts.set(ad.categoryIndex, (counts.get(ad.categoryIndex) ?? 0) + 1);
      const [a, b] = [...counts.entries()].sort((x, y) => y[1] - x[1]).map(([k]) => k);
      const interests = new Array<number>(TOPIC_COUNT).fill(0.2 / (TOPIC_COUNT - 2));
      interests[a] = 0.5;
      interests[b] = 0.3;
      return { a, b, interests };
    };

    it("searches each notable category on its own, interleaved by the user's affinity, each ad once", () => {
      const { a, b, interests } = twoInterests();
      const answer = run('ann', { user: { ...user, interests } });
      const { adIds } = answer.candidates;
      expect(answer.note).toBe('interests (2)');
      expect(adIds).toHaveLength(50);
      expect(new Set(adIds).size).toBe(50);
      expect(adIds.every((id) => eligibleFor(byId.get(id)!, user, new Set()))).toBe(true);
      // D'Hondt over 0.5 : 0.3: the first 8 take 5 from the first interest's list, 3 from the second's.
      const first = adIds.slice(0, 8).map(categoryOf);
      expect(first.filter((c) => c === a).length).toBeGreaterThanOrEqual(4);
      expect(first.filter((c) => c === b).length).toBeGreaterThanOrEqual(2);
      // Asking for fewer answers the first of asking for more.
      expect(run('ann', { user: { ...user, interests } }, { k: 20 }).candidates.adIds).toEqual(
        adIds.slice(0, 20),
      );
    });

    it("searches around the user's own ads of a category, and its centroid without them", () => {
      const { a, b, interests } = twoInterests();
      const clickedInA = ads
        .filter((ad) => ad.categoryIndex === a && eligibleFor(ad, user, new Set()))
        .slice(0, 2);
      const queries = interestQueries(
        interests,
        clickedInA.map((ad) => ad.id),
        catalog,
      );
      expect(queries.map((q) => q.weight)).toEqual([0.5 / 0.8, 0.3 / 0.8].map((w) => expect.closeTo(w, 12)));
      expect(queries[0].vector).toEqual(
        recentAdsVector(
          clickedInA.map((ad) => ad.id),
          catalog,
        ),
      );
      expect(queries[1].vector).toEqual(catalog.categoryCentroid(b));
      expect(
        interestQueries(new Array<number>(TOPIC_COUNT).fill(MIN_INTEREST_AFFINITY / 2), [], catalog),
      ).toEqual([]);
      expect(interestQueries(interests, [], catalog, 1)).toHaveLength(1);
    });

    it('searches one vector per user with RETRIEVAL_ANN_INTERESTS=0, as when no category stands out', () => {
      const { interests } = twoInterests();
      const single = new ActivityUserQueryVector(0).queryFor({ ...user, interests }, catalog);
      expect(single.basis).toBe('affinity');
      expect(single.interests).toEqual([{ vector: affinityVector(interests, catalog), weight: 1 }]);
      expect(() => new ActivityUserQueryVector(-1)).toThrow(/integer >= 0/);
    });
  });

  describe('lexical', () => {
    it("answers the eligible ads naming the query's product first, scored by BM25", () => {
      const answer = run('lexical', { surface: 'search', query: someProduct });
      const { adIds, scores } = answer.candidates;

      expect(adIds.length).toBeGreaterThan(5);
      expect(answer.candidates.sources.every((s) => s === 'lexical')).toBe(true);
      const naming = adIds.filter((id) => product(byId.get(id)!) === someProduct);
      expect(adIds.slice(0, naming.length)).toEqual(naming);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it('answers nothing, saying why, without a query or for words no ad has', () => {
      expect(run('lexical', { surface: 'search' })).toEqual({
        candidates: { adIds: [], scores: [], sources: [] },
        note: 'no query',
      });
      expect(run('lexical', { surface: 'search', query: 'zzz qqq' }).note).toBe(
        'no eligible ad has a word of the query',
      );
    });
  });

  describe('query', () => {
    it("searches near the best lexical hits' embeddings: ads of the same category beyond the words", () => {
      const query = someProduct;
      const answer = run('query', { surface: 'search', query });
      const category = ads.find((ad) => product(ad) === query)!.category;
      const { adIds } = answer.candidates;

      expect(adIds).toHaveLength(50);
      expect(answer.candidates.sources.every((s) => s === 'query')).toBe(true);
      // Far above the 1 in 16 of a random ad.
      expect(adIds.filter((id) => byId.get(id)!.category === category).length).toBeGreaterThan(30);
      expect(adIds.some((id) => product(byId.get(id)!) !== query)).toBe(true);
    });

    it('answers nothing when no ad matches a word of the query', () => {
      expect(run('query', { surface: 'search', query: 'zzz' }).note).toBe('no lexical hit to search around');
    });
  });

  describe('context', () => {
    const contextAd = ads.find((ad) => eligibleFor(ad, user, new Set()))!;

    it('answers the ads nearest the context ad, never the ad itself', () => {
      const answer = run('context', { surface: 'related_items', contextAdId: contextAd.id });
      const { adIds, scores } = answer.candidates;

      expect(adIds).toHaveLength(50);
      expect(adIds).not.toContain(contextAd.id);
      expect(answer.candidates.sources.every((s) => s === 'context')).toBe(true);
      expect(scores[0]).toBeCloseTo(
        dot(catalog.ad(adIds[0])!.embedding, catalog.ad(contextAd.id)!.embedding),
        5,
      );
      expect(adIds.filter((id) => byId.get(id)!.category === contextAd.category).length).toBeGreaterThan(30);
    });

    it('answers nothing, saying why, for an ad not in the catalog or no context', () => {
      expect(run('context', { surface: 'related_items', contextAdId: 999_999 }).note).toBe(
        'context ad 999999 is not in the catalog',
      );
      expect(run('context', { surface: 'related_items' }).note).toBe('no context ad');
    });
  });

  describe('trending', () => {
    it("answers the country's eligible trending ads, hottest first", () => {
      const answer = run('trending');

      expect(answer.candidates.adIds).toHaveLength(2);
      expect(answer.candidates.scores).toEqual([9, 5]);
      expect(answer.candidates.sources).toEqual(['trending', 'trending']);
    });

    it('answers nothing for a country without trending ads', () => {
      const elsewhere = { ...user, country: user.country === 'JP' ? 'BR' : 'JP' };

      expect(run('trending', { user: elsewhere }).candidates.adIds).toEqual([]);
    });
  });

  describe('popular', () => {
    it("is the index's popular list", () => {
      const answer = run('popular', {}, { k: 20 });

      expect(answer.candidates).toEqual(
        catalog.index.popular({ country: user.country, device: user.device, k: 20 }),
      );
    });
  });

  describe('retargeting', () => {
    it("answers eligible ads of the user's recent advertisers, taking one of each in turn", () => {
      const advertisers = [...new Set(ads.map((ad) => ad.advertiserId))].slice(0, 2);
      const activity = {
        impressionsByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        clicksByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        hidesByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        conversionsByCategory: new Array<number>(TOPIC_COUNT).fill(0),
        recentAdIds: [],
        recentAdvertiserIds: advertisers,
        recentQueries: [],
        updatedAt: 0,
      };
      const answer = run('retargeting', { user: { ...user, activity } }, { k: 10 });
      const owners = answer.candidates.adIds.map((id) => byId.get(id)!.advertiserId);

      expect(owners.slice(0, 4)).toEqual([advertisers[0], advertisers[1], advertisers[0], advertisers[1]]);
      expect(answer.candidates.sources.every((s) => s === 'retargeting')).toBe(true);
      expect(run('retargeting').note).toBe('no recent advertisers');
    });
  });

  it('leaves out the ads of excluded campaigns in every source', () => {
    const campaigns = new Set(ads.slice(0, 300).map((ad) => ad.campaign.id));
    const contextAdId = ads[400].id;
    for (const source of ['ann', 'lexical', 'query', 'context', 'popular', 'trending'] as const) {
      // run() checks each candidate against the targeting and the exclusions.
      run(source, { query: someProduct, contextAdId }, { excludeCampaigns: campaigns });
    }
  });
});
