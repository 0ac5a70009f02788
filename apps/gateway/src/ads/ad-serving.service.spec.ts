import { beforeEach, describe, expect, it } from '@jest/globals';
import type { CatalogAd } from '@adfunnel/catalog';
import {
  AdfunnelError,
  type AdRequest,
  type AdResponse,
  type AuctionRequest,
  type AuctionResponse,
  type CandidatesResponse,
  Rpc,
  type ScoreResponse,
} from '@adfunnel/contracts';
import type { BusClient, Clock } from '@adfunnel/platform';
import { FakeCatalogSnapshots, catalogAdFactory, catalogSnapshot } from '@adfunnel/testing';
import { parseExperimentConfig } from '@adfunnel/experiments';
import { SignedEventToken } from '@adfunnel/tracking';
import { parseGatewayConfig } from '../config.js';
import type { LoadedExperiments } from '../experiments/experiments-file.js';
import { ExperimentsService } from '../experiments/experiments.service.js';
import { AdServingService } from './ad-serving.service.js';
import type { FunnelTrace } from './funnel-trace.js';
import type { ServedRecordWriter } from './served-record.writer.js';
import type { UserProfileService } from './user-profile.service.js';

type Handler = (payload: unknown) => Promise<unknown>;

/** A bus whose stages are plain functions, so a test can make any of them fail. */
class FakeBus {
  readonly handlers = new Map<string, Handler>();
  readonly calls: { pattern: string; payload: unknown; timeoutMs: number | undefined }[] = [];

  call(contract: { pattern: string }, payload: unknown, opts?: { timeoutMs?: number }): Promise<unknown> {
    this.calls.push({ pattern: contract.pattern, payload, timeoutMs: opts?.timeoutMs });
    const handler = this.handlers.get(contract.pattern);
    return handler ? handler(payload) : Promise.reject(new AdfunnelError('unavailable', 'nobody listens'));
  }
}

/** Ad `id` of campaign `id * 10`, as auctionOf's winners name it. */
const ad = (id: number, advertiserId: number): CatalogAd =>
  catalogAdFactory(id, { id: id * 10, advertiserId, bidType: 'CPC', bid: 1 });

const candidates: CandidatesResponse = {
  adIds: [1, 2, 3],
  scores: [0.9, 0.8, 0.7],
  sources: ['ann', 'ann', 'ann'],
  indexVersion: 'v1',
  eligible: 3,
};

const scores: ScoreResponse = {
  modelVersion: 'm1',
  pCtr: [0.01, 0.05, 0.02],
  pCvr: [0.1, 0.1, 0.1],
  featureSpec: 'fp',
  catalogVersion: 'v1',
};

function auctionOf(req: AuctionRequest): AuctionResponse {
  return {
    mechanism: req.predictions ? 'gsp' : 'retrieval_order',
    reservePerImpression: 0.0005,
    considered: req.adIds.length,
    eligible: req.adIds.length,
    winners: req.adIds.slice(0, req.slots).map((adId, slot) => ({
      slot,
      adId,
      campaignId: adId * 10,
      advertiserId: adId,
      bidType: 'CPC' as const,
      bid: 1,
      price: 0.5,
      valuePerImpression: 0.01,
      pCtr: req.predictions?.pCtr[slot] ?? null,
      pCvr: req.predictions?.pCvr[slot] ?? null,
    })),
  };
}

describe(AdServingService.name, () => {
  const request: AdRequest = {
    userId: 'u00001',
    surface: 'home_feed',
    country: 'US',
    device: 'mobile',
    slots: 2,
  };
  const config = parseGatewayConfig({ TRACKING_SECRET: 'test-secret-0123456789' });
  // The funnel's clock, far from the wall clock: a simulated day.
  const simulatedNow = Date.UTC(2030, 0, 1, 9);
  const clock: Clock = { now: () => simulatedNow };
  const user = {
    userId: request.userId,
    country: request.country,
    device: request.device,
    interests: new Array<number>(16).fill(1 / 16),
    known: true,
  };
  let bus: FakeBus;
  let published: unknown[][];
  let recordDurable: boolean;
  let idClaimable: boolean;
  let activityUnavailable: boolean;
  let profileTimes: number[];
  let sut: AdServingService;
  let makeService: (experiments?: ExperimentsService) => AdServingService;

  beforeEach(() => {
    bus = new FakeBus();
    bus.handlers.set(Rpc.retrievalCandidates.pattern, () => Promise.resolve(candidates));
    bus.handlers.set(Rpc.rankingScore.pattern, () => Promise.resolve(scores));
    bus.handlers.set(Rpc.auctionRun.pattern, (p) => Promise.resolve(auctionOf(p as AuctionRequest)));
    published = [];
    recordDurable = true;
    idClaimable = true;
    activityUnavailable = false;
    profileTimes = [];
    const profiles = {
      userContext: (_request: AdRequest, now: number) => {
        profileTimes.push(now);
        return Promise.resolve({ user, activityUnavailable });
      },
    } as unknown as UserProfileService;
    const ads = [1, 2, 3].map((id) => ad(id, id));
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService();
    const writer = {
      claim: () => Promise.resolve(idClaimable),
      write: (...args: unknown[]) => {
        published.push(args);
        return Promise.resolve(recordDurable);
      },
    };
    makeService = (experiments) =>
      new AdServingService(
        bus as unknown as BusClient,
        profiles,
        catalog,
        writer as unknown as ServedRecordWriter,
        clock,
        config,
        undefined,
        experiments,
      );
    sut = makeService();
  });

  it("passes a search's query and a related-items context ad on to retrieval", async () => {
    await sut.serve({ ...request, surface: 'search', query: 'wireless earbuds' }, 'req-q');
    await sut.serve({ ...request, surface: 'related_items', contextAdId: 2 }, 'req-c');

    const asked = bus.calls.filter((c) => c.pattern === Rpc.retrievalCandidates.pattern);
    expect(asked[0].payload).toMatchObject({ surface: 'search', query: 'wireless earbuds' });
    expect(asked[0].payload).not.toHaveProperty('contextAdId');
    expect(asked[1].payload).toMatchObject({ surface: 'related_items', contextAdId: 2 });
    expect(asked[1].payload).not.toHaveProperty('query');
  });

  it('refuses a context ad the catalog does not have, before any stage runs', async () => {
    await expect(
      sut.serve({ ...request, surface: 'related_items', contextAdId: 99 }, 'req-x'),
    ).rejects.toThrow(
      new AdfunnelError(
        'invalid_request',
        'contextAdId 99 is not an ad in the catalog',
        'unknown_context_ad',
      ),
    );
    expect(bus.calls).toEqual([]);
    expect(published).toEqual([]);
  });

  it('runs retrieval, ranking and auction and answers with creatives and signed tracking URLs', async () => {
    const answer = await sut.serve(request, 'req-1');

    expect(bus.calls.map((c) => c.pattern)).toEqual([
      Rpc.retrievalCandidates.pattern,
      Rpc.rankingScore.pattern,
      Rpc.auctionRun.pattern,
    ]);
    expect(answer).toMatchObject({
      requestId: 'req-1',
      ranking: 'model',
      modelVersion: 'm1',
      degraded: [],
      personalized: true,
    });
    expect(answer.ads.map((a) => a.adId)).toEqual([1, 2]);
    expect(answer.ads[0].creative.title).toBe('ad 1');
    expect(answer.ads[0].tracking.clickUrl).toMatch(/^http:\/\/127\.0\.0\.1:3104\/v1\/events\/click\?t=/);
    expect((bus.calls[2].payload as AuctionRequest).predictions).toEqual({
      pCtr: scores.pCtr,
      pCvr: scores.pCvr,
    });
    expect(published).toHaveLength(1);
  });

  it("gives the auction the request's arm's mechanism, utility weights and ad load, and traces its label", async () => {
    const config = parseExperimentConfig({
      layers: [
        {
          name: 'auction',
          salt: 'serving-spec',
          experiments: [
            {
              name: 'pricing',
              arms: [
                {
                  name: 'treatment',
                  share: 1,
                  overrides: { mechanism: 'vcg', utilityWeights: { hide: 3 }, slots: 1 },
                },
              ],
            },
          ],
        },
      ],
    });
    const loaded: LoadedExperiments = { path: '/x.json', config, hash: 'h', loadedAt: 0 };
    const withExperiments = makeService(
      new ExperimentsService(parseGatewayConfig({ TRACKING_SECRET: 'test-secret-0123456789' }), loaded),
    );

    const answer = await withExperiments.serve(request, 'req-arm');

    expect(bus.calls[2].payload).toMatchObject({ mechanism: 'vcg', utilityWeights: { hide: 3 }, slots: 1 });
    expect(answer.ads).toHaveLength(1);
    expect((published[0] as [unknown, FunnelTrace])[1].experimentArms).toBe('auction:pricing/treatment');
    // No public field for it: the answer is the same shape as without experiments.
    expect(Object.keys(answer).sort()).toEqual(Object.keys(await sut.serve(request, 'req-plain')).sort());
    const plain = bus.calls[5].payload as AuctionRequest;
    expect(plain).not.toHaveProperty('mechanism');
    expect(plain).not.toHaveProperty('utilityWeights');
    expect(plain.slots).toBe(request.slots);
    expect((published[1] as [unknown, FunnelTrace])[1]).not.toHaveProperty('experimentArms');
  });

  it("passes a hide head's pHide to the auction and the served record, and a hide URL with every ad", async () => {
    const pHide = [0.02, 0.3, 0.01];
    bus.handlers.set(Rpc.rankingScore.pattern, () => Promise.resolve({ ...scores, pHide }));

    const answer = await sut.serve(request, 'req-hide');

    expect((bus.calls[2].payload as AuctionRequest).predictions).toEqual({
      pCtr: scores.pCtr,
      pCvr: scores.pCvr,
      pHide,
    });
    const [, trace] = published[0] as [unknown, FunnelTrace];
    expect(trace.scoredAdIds).toEqual(candidates.adIds);
    expect(trace.scores?.pHide).toEqual(pHide);
    for (const served of answer.ads) {
      expect(served.tracking.hideUrl).toMatch(/^http:\/\/127\.0\.0\.1:3104\/v1\/events\/hide\?t=/);
    }
  });

  it('answers without ads, saying why, when the served record could not be written', async () => {
    recordDurable = false;

    const answer = await sut.serve(request, 'req-unrecorded');

    expect(published).toHaveLength(1);
    expect(answer.ads).toEqual([]);
    expect(answer.degraded).toEqual(['served_record_unavailable']);
    expect(answer.ranking).toBe('none');
    expect(answer.modelVersion).toBeNull();
  });

  it('runs no stage, so reserves no budget, when the request id cannot be claimed', async () => {
    idClaimable = false;

    const answer = await sut.serve(request, 'req-unclaimed');

    expect(bus.calls).toEqual([]);
    expect(published).toEqual([]);
    expect(answer).toMatchObject({
      ads: [],
      ranking: 'none',
      degraded: ['served_record_unavailable'],
      stages: { retrieval: 'skipped', ranking: 'skipped', auction: 'skipped' },
    });
  });

  it('answers in retrieval order, priced without predictions, when ranking fails', async () => {
    bus.handlers.set(Rpc.rankingScore.pattern, () =>
      Promise.reject(new AdfunnelError('timeout', 'too slow')),
    );

    const answer = await sut.serve(request, 'req-2');

    expect(answer.ranking).toBe('retrieval_order');
    expect(answer.degraded).toEqual(['ranking_unavailable']);
    expect(answer.modelVersion).toBeNull();
    expect(answer.ads.map((a) => a.adId)).toEqual([1, 2]);
    expect((bus.calls[2].payload as AuctionRequest).predictions).toBeUndefined();
  });

  it('answers with no ads, and says why, when retrieval or the auction fails', async () => {
    bus.handlers.delete(Rpc.retrievalCandidates.pattern);
    const noRetrieval = await sut.serve(request, 'req-3');
    expect(noRetrieval.ads).toEqual([]);
    expect(noRetrieval.degraded).toEqual(['retrieval_unavailable']);

    bus.handlers.set(Rpc.retrievalCandidates.pattern, () => Promise.resolve(candidates));
    bus.handlers.delete(Rpc.auctionRun.pattern);
    const noAuction = await sut.serve(request, 'req-4');
    expect(noAuction.ads).toEqual([]);
    expect(noAuction.degraded).toEqual(['auction_unavailable']);
  });

  type Behaviour = 'ok' | 'empty' | 'failed' | 'timeout';
  const behave = (b: Behaviour, ok: Handler): Handler | undefined =>
    b === 'failed'
      ? undefined
      : b === 'timeout'
        ? () => Promise.reject(new AdfunnelError('timeout', 'did not answer within 80 ms'))
        : b === 'empty'
          ? () => Promise.resolve({ ...candidates, adIds: [], scores: [], sources: [], eligible: 0 })
          : ok;
  const cases: [Behaviour, Behaviour, Behaviour, Partial<AdResponse>, number][] = [
    // retrieval, ranking, auction -> what the answer says, ads
    [
      'ok',
      'ok',
      'ok',
      { ranking: 'model', degraded: [], stages: { retrieval: 'ok', ranking: 'ok', auction: 'ok' } },
      2,
    ],
    [
      'empty',
      'ok',
      'ok',
      { ranking: 'none', degraded: [], stages: { retrieval: 'ok', ranking: 'skipped', auction: 'skipped' } },
      0,
    ],
    [
      'failed',
      'ok',
      'ok',
      {
        ranking: 'none',
        degraded: ['retrieval_unavailable'],
        stages: { retrieval: 'failed', ranking: 'skipped', auction: 'skipped' },
      },
      0,
    ],
    [
      'timeout',
      'ok',
      'ok',
      {
        ranking: 'none',
        degraded: ['retrieval_unavailable'],
        stages: { retrieval: 'timeout', ranking: 'skipped', auction: 'skipped' },
      },
      0,
    ],
    [
      'ok',
      'failed',
      'ok',
      {
        ranking: 'retrieval_order',
        degraded: ['ranking_unavailable'],
        stages: { retrieval: 'ok', ranking: 'failed', auction: 'ok' },
      },
      2,
    ],
    [
      'ok',
      'timeout',
      'ok',
      {
        ranking: 'retrieval_order',
        degraded: ['ranking_unavailable'],
        stages: { retrieval: 'ok', ranking: 'timeout', auction: 'ok' },
      },
      2,
    ],
    [
      'ok',
      'ok',
      'failed',
      {
        ranking: 'none',
        modelVersion: null,
        degraded: ['auction_unavailable'],
        stages: { retrieval: 'ok', ranking: 'ok', auction: 'failed' },
      },
      0,
    ],
    [
      'ok',
      'failed',
      'timeout',
      {
        ranking: 'none',
        degraded: ['ranking_unavailable', 'auction_unavailable'],
        stages: { retrieval: 'ok', ranking: 'failed', auction: 'timeout' },
      },
      0,
    ],
  ];

  it.each(cases)(
    'says exactly what happened: retrieval %s, ranking %s, auction %s',
    async (retrieval, ranking, auction, expected, adCount) => {
      const set = (pattern: string, handler: Handler | undefined) =>
        handler ? bus.handlers.set(pattern, handler) : bus.handlers.delete(pattern);
      set(
        Rpc.retrievalCandidates.pattern,
        behave(retrieval, () => Promise.resolve(candidates)),
      );
      set(
        Rpc.rankingScore.pattern,
        behave(ranking, () => Promise.resolve(scores)),
      );
      set(
        Rpc.auctionRun.pattern,
        behave(auction, (p) => Promise.resolve(auctionOf(p as AuctionRequest))),
      );

      const answer = await sut.serve(request, 'req-combo');

      expect(answer).toMatchObject(expected);
      expect(answer.ads).toHaveLength(adCount);
      expect(answer.modelVersion).toBe(answer.ranking === 'model' ? 'm1' : null);
    },
  );

  it('calls no stage once the deadline has passed, and says the stages timed out', async () => {
    const tight = parseGatewayConfig({
      TRACKING_SECRET: 'test-secret-0123456789',
      GATEWAY_DEADLINE_MS: '20',
    });
    const slow = new AdServingService(
      bus as unknown as BusClient,
      {
        userContext: () =>
          new Promise((resolve) => setTimeout(() => resolve({ user, activityUnavailable: false }), 30)),
      } as unknown as UserProfileService,
      new FakeCatalogSnapshots(catalogSnapshot('cat-1', [ad(1, 1)])).asService(),
      {
        claim: () => Promise.resolve(true),
        write: () => Promise.resolve(true),
      } as unknown as ServedRecordWriter,
      clock,
      tight,
    );

    const answer = await slow.serve(request, 'req-late');

    expect(bus.calls).toEqual([]);
    expect(answer).toMatchObject({
      ads: [],
      ranking: 'none',
      degraded: ['retrieval_unavailable'],
      stages: { retrieval: 'timeout', ranking: 'skipped', auction: 'skipped' },
    });
  });

  it('reads the user at the funnel clock, and serves a user whose activity is unreadable, saying so', async () => {
    const answer = await sut.serve(request, 'req-activity-ok');
    expect(profileTimes).toEqual([simulatedNow]);
    expect(answer.degraded).toEqual([]);

    activityUnavailable = true;
    const degraded = await sut.serve(request, 'req-activity-down');
    expect(degraded.ads).toHaveLength(2);
    expect(degraded.degraded).toEqual(['user_activity_unavailable']);
  });

  it('gives no stage more time than is left before the request deadline', async () => {
    await sut.serve(request, 'req-5');
    for (const call of bus.calls) {
      expect(call.timeoutMs).toBeGreaterThan(0);
      expect(call.timeoutMs).toBeLessThanOrEqual(config.GATEWAY_DEADLINE_MS);
    }
    expect(bus.calls[0].timeoutMs).toBeLessThanOrEqual(config.RETRIEVAL_TIMEOUT_MS);
  });

  it('stamps serve time and token expiry from the funnel clock, and the deadline from the wall clock', async () => {
    const wallBefore = Date.now();
    const answer = await sut.serve(request, 'req-6');

    const token = new URL(answer.ads[0].tracking.clickUrl).searchParams.get('t') ?? '';
    const claims = SignedEventToken.verify(token, config.TRACKING_SECRET, simulatedNow, 'click');
    expect(claims.t).toBe(simulatedNow);
    expect(claims.exp).toBe(simulatedNow + config.TRACKING_TTL_MS);
    expect((published[0][1] as { servedAt: number }).servedAt).toBe(simulatedNow);
    const deadlineAt = (bus.calls[0].payload as { deadlineAt: number }).deadlineAt;
    expect(deadlineAt).toBeGreaterThanOrEqual(wallBefore + config.GATEWAY_DEADLINE_MS);
    expect(deadlineAt).toBeLessThanOrEqual(Date.now() + config.GATEWAY_DEADLINE_MS);
  });
});
