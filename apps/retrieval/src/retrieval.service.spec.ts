import { describe, it, expect, beforeAll, beforeEach } from '@jest/globals';
import { AdfunnelError, CandidatesResponseSchema, type CandidatesRequest } from '@adfunnel/contracts';
import { TOPIC_COUNT } from '@adfunnel/features';
import {
  FakeCatalogSnapshots,
  SMALL_MARKETPLACE,
  catalogAds,
  catalogSnapshot,
  knownUserContext,
} from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { RetrievalConfigSchema, type RetrievalConfig } from './config.js';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';
import { RetrievalService } from './retrieval.service.js';
import { CandidateSources } from './sources/candidate-sources.js';
import { TrendingAds } from './sources/trending-ads.js';
import { ActivityUserQueryVector } from './sources/user-query-vector.js';

const NOW = Date.UTC(2025, 5, 1, 12);

function requestFactory(overrides: Partial<CandidatesRequest> = {}): CandidatesRequest {
  return {
    requestId: 'req-1',
    deadlineAt: NOW + 50,
    user: knownUserContext(SMALL_MARKETPLACE, 3),
    surface: 'home_feed',
    limit: 100,
    ...overrides,
  };
}

describe(RetrievalService.name, () => {
  let lifecycle: IndexLifecycleService;
  let sut: RetrievalService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  const ads = catalogAds();
  const byId = new Map(ads.map((ad) => [ad.id, ad]));

  beforeEach(() => {
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads));
    const config: RetrievalConfig = RetrievalConfigSchema.parse({ RETRIEVAL_EXACT_THRESHOLD: '0' });
    lifecycle = new IndexLifecycleService(catalog.asService(), config);
    const sources = new CandidateSources(new ActivityUserQueryVector(), new TrendingAds(null, 100, 5000), {
      annOverfetch: config.RETRIEVAL_ANN_OVERFETCH,
      querySeeds: config.RETRIEVAL_QUERY_SEEDS,
    });
    sut = new RetrievalService(lifecycle, sources, config);
  });

  it('answers not_ready until the index is built', () => {
    expect(() => sut.candidates(requestFactory(), NOW)).toThrow(
      new AdfunnelError('not_ready', 'the ad index is not built yet'),
    );
  });

  describe('with the index built', () => {
    beforeEach(async () => {
      await lifecycle.onApplicationBootstrap();
    });

    it('returns up to `limit` targeted candidates as parallel arrays, with the index version', () => {
      const request = requestFactory();

      const response = sut.candidates(request, NOW);

      expect(CandidatesResponseSchema.parse(response)).toEqual(response);
      expect(response.adIds).toHaveLength(100);
      expect(new Set(response.adIds).size).toBe(100);
      expect(response.scores).toHaveLength(100);
      // Home feed: the personalized quota (60%), then the eligible ads of the advertisers the user
      // clicked (up to 10%), popular (15%); trending has nothing yet, so the personalized source
      // backfills what is left.
      const count = (source: string) => response.sources.filter((s) => s === source).length;
      expect(response.sources.slice(0, 60)).toEqual(Array(60).fill('ann'));
      expect(count('retargeting')).toBeGreaterThan(0);
      expect(count('retargeting')).toBeLessThanOrEqual(10);
      expect(count('popular')).toBe(15);
      expect(count('ann')).toBe(85 - count('retargeting'));
      expect(response.indexVersion).toBe(lifecycle.current().version);
      expect(response.eligible).toBe(
        lifecycle.current().eligibleCount(request.user.country, request.user.device),
      );
    });

    it('falls back to the popularity list for a user without interests', () => {
      const request = requestFactory();
      const { activity: _none, ...declared } = request.user;
      const unknown = { ...declared, known: false, interests: new Array<number>(TOPIC_COUNT).fill(0) };

      const response = sut.candidates({ ...request, user: unknown, limit: 20 }, NOW);

      expect(response.sources).toEqual(Array(20).fill('popular'));
      expect(response.adIds).toEqual(
        lifecycle.current().popular({ country: unknown.country, device: unknown.device, k: 20 }).adIds,
      );
    });

    it("fills a search request mostly with the lexical hits for the query's product, then ads like them", () => {
      const user = requestFactory().user;
      const eligibleAd = ads.find(
        (ad) =>
          ad.status === 'active' &&
          ad.campaign.status === 'active' &&
          (ad.campaign.targetCountries.length === 0 || ad.campaign.targetCountries.includes(user.country)) &&
          (ad.campaign.targetDevices.length === 0 || ad.campaign.targetDevices.includes(user.device)),
      )!;
      const product = eligibleAd.title.split(': ')[1];

      const response = sut.candidates(requestFactory({ surface: 'search', query: product, limit: 15 }), NOW);

      const lexical = response.adIds.filter((_, i) => response.sources[i] === 'lexical');
      expect(response.adIds).toHaveLength(15);
      // The lexical quota (60%) first, every one naming the product; ads like them fill the rest.
      expect(response.sources.slice(0, 9)).toEqual(Array(9).fill('lexical'));
      expect(lexical.every((id) => byId.get(id)!.title.endsWith(`: ${product}`))).toBe(true);
      expect(response.sources.slice(9)).toContain('query');
      expect(response.sources.every((s) => ['lexical', 'query'].includes(s))).toBe(true);
      const onTopic = response.adIds.filter((id) => byId.get(id)!.category === eligibleAd.category);
      expect(onTopic.length).toBeGreaterThanOrEqual(13);
    });

    it('keeps weak lexical matches (a brand word alone) out and fills from ads like the strong ones', () => {
      const response = sut.candidates(
        requestFactory({ surface: 'search', query: 'studio headphones', limit: 100 }),
        NOW,
      );

      const lexical = response.adIds.filter((_, i) => response.sources[i] === 'lexical');
      expect(lexical.length).toBeGreaterThan(0);
      expect(lexical.every((id) => byId.get(id)!.title.endsWith(': studio headphones'))).toBe(true);
      expect(response.adIds).toHaveLength(100);
    });

    it('tops a search up from the popular list when no eligible ad has a word of the query, or there is none', () => {
      const popularIds = (limit: number) => {
        const { user } = requestFactory();
        return lifecycle.current().popular({ country: user.country, device: user.device, k: limit }).adIds;
      };
      for (const query of ['zzyzx qwxv', undefined]) {
        const response = sut.candidates(requestFactory({ surface: 'search', query, limit: 20 }), NOW);

        expect(response.adIds).toHaveLength(20);
        expect(response.sources).toEqual(Array(20).fill('popular'));
        expect(response.adIds).toEqual(popularIds(20));
      }
    });

    it('fills a related-items request mostly with ads like the context ad, leaving the ad itself out', () => {
      const context = ads[42];

      const response = sut.candidates(
        requestFactory({ surface: 'related_items', contextAdId: context.id, limit: 50 }),
        NOW,
      );

      expect(response.adIds).toHaveLength(50);
      expect(response.adIds).not.toContain(context.id);
      expect(response.sources.slice(0, 40)).toEqual(Array(40).fill('context'));
      const near = response.adIds.slice(0, 30).filter((id) => byId.get(id)!.category === context.category);
      expect(near.length).toBeGreaterThan(20);
    });

    it('answers what asking every source for the whole limit answers, when the buckets are scanned exactly', async () => {
      const exact = (headroom: string) => {
        const config = RetrievalConfigSchema.parse({
          RETRIEVAL_EXACT_THRESHOLD: '1000000',
          RETRIEVAL_SOURCE_HEADROOM: headroom,
        });
        const lifecycle = new IndexLifecycleService(
          new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService(),
          config,
        );
        const sources = new CandidateSources(
          new ActivityUserQueryVector(),
          new TrendingAds(null, 100, 5000),
          {
            annOverfetch: config.RETRIEVAL_ANN_OVERFETCH,
            querySeeds: config.RETRIEVAL_QUERY_SEEDS,
          },
        );
        return { lifecycle, service: new RetrievalService(lifecycle, sources, config) };
      };
      const quota = exact('1');
      const whole = exact('0');
      await Promise.all([quota.lifecycle.onApplicationBootstrap(), whole.lifecycle.onApplicationBootstrap()]);
      const ad = ads[42];
      const requests = [0, 1, 2, 3].flatMap((user) => [
        requestFactory({ user: knownUserContext(SMALL_MARKETPLACE, user) }),
        requestFactory({
          surface: 'search',
          query: ad.title.split(': ')[1],
          user: knownUserContext(SMALL_MARKETPLACE, user),
        }),
        requestFactory({
          surface: 'related_items',
          contextAdId: ad.id,
          user: knownUserContext(SMALL_MARKETPLACE, user),
        }),
      ]);

      for (const request of requests) {
        const answer = quota.service.candidates(request, NOW);

        // Headroom 1: a source whose quota dedupe or an empty trending list leaves short is asked again.
        const { indexVersion: _, ...expected } = whole.service.candidates(request, NOW);
        expect(answer).toEqual({ ...expected, indexVersion: answer.indexVersion });
        expect(answer.adIds).toHaveLength(100);
      }
    });

    it('answers timeout when the deadline has already passed', () => {
      const request = requestFactory({ deadlineAt: NOW - 5 });

      expect(() => sut.candidates(request, NOW)).toThrow(
        new AdfunnelError('timeout', 'request req-1 reached retrieval 5 ms after its deadline'),
      );
    });

    it('rejects an interest profile that does not match the topic taxonomy', () => {
      const request = requestFactory();

      expect(() =>
        sut.candidates({ ...request, user: { ...request.user, interests: [0.5, 0.5] } }, NOW),
      ).toThrow(
        new AdfunnelError('invalid_request', 'user.interests has 2 values, expected one per topic (16)'),
      );
    });
  });
});
