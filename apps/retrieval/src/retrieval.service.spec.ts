import { describe, it, expect, beforeAll, beforeEach } from '@jest/globals';
import { AdfunnelError, CandidatesResponseSchema, type CandidatesRequest } from '@adfunnel/contracts';
import { TOPIC_COUNT } from '@adfunnel/features';
import {
  FakeCatalogSnapshots,
  SMALL_MARKETPLACE,
  catalogSnapshot,
  knownUserContext,
} from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { RetrievalConfigSchema } from './config.js';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';
import { RetrievalService } from './retrieval.service.js';

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

  beforeEach(() => {
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1'));
    lifecycle = new IndexLifecycleService(
      catalog.asService(),
      RetrievalConfigSchema.parse({ RETRIEVAL_EXACT_THRESHOLD: '0' }),
    );
    sut = new RetrievalService(lifecycle);
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
      expect(response.scores).toHaveLength(100);
      expect(response.sources).toEqual(Array(100).fill('ann'));
      expect(response.indexVersion).toBe(lifecycle.current().version);
      expect(response.eligible).toBe(
        lifecycle.current().eligibleCount(request.user.country, request.user.device),
      );
    });

    it('falls back to the popularity list for a user without interests', () => {
      const request = requestFactory();
      const unknown = { ...request.user, known: false, interests: new Array<number>(TOPIC_COUNT).fill(0) };

      const response = sut.candidates({ ...request, user: unknown, limit: 20 }, NOW);

      expect(response.sources).toEqual(Array(20).fill('popular'));
      expect(response.adIds).toEqual(
        lifecycle.current().popular({ country: unknown.country, device: unknown.device, k: 20 }).adIds,
      );
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
