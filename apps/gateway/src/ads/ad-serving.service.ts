import { CatalogSnapshotService } from '@adfunnel/catalog';
import {
  AdfunnelError,
  type AdRequest,
  type AdResponse,
  type AuctionRequest,
  type Degradation,
  FUNNEL_STAGES,
  type FunnelStage,
  type Ranking,
  Rpc,
  type ScoreResponse,
  type ServedAd,
  type StageOutcome,
} from '@adfunnel/contracts';
import { annotateSpan, BusClient, Clock, InjectConfig, tracedStep } from '@adfunnel/platform';
import type { Assignment } from '@adfunnel/experiments';
import { trackingUrls } from '@adfunnel/tracking';
import { Injectable, Logger, Optional } from '@nestjs/common';
import type { GatewayConfig } from '../config.js';
import { GatewayDelivery } from '../diagnostics/gateway-delivery.js';
import { ExperimentsService } from '../experiments/experiments.service.js';
import type { FunnelTrace } from './funnel-trace.js';
import { ServedRecordWriter } from './served-record.writer.js';
import { UserProfileService } from './user-profile.service.js';

/**
 * Orchestrates one ad request: retrieval -> ranking -> auction under one deadline. A stage that fails
 * or runs out of time degrades the answer (unranked or no ads), never the request.
 */
@Injectable()
export class AdServingService {
  private readonly logger = new Logger(AdServingService.name);

  constructor(
    private readonly bus: BusClient,
    private readonly profiles: UserProfileService,
    private readonly catalog: CatalogSnapshotService,
    private readonly servedRecords: ServedRecordWriter,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: GatewayConfig,
    @Optional() private readonly delivery?: GatewayDelivery,
    @Optional() private readonly experiments?: ExperimentsService,
  ) {}

  async serve(request: AdRequest, requestId: string): Promise<AdResponse> {
    // First, so a refused request's trace can be found by its x-request-id too.
    annotateSpan(() => ({ 'adfunnel.request_id': requestId }));
    // Ads like an item the catalog does not have cannot be found: refused (400) before any work.
    if (request.contextAdId !== undefined && !this.catalog.snapshot().byId.has(request.contextAdId)) {
      throw new AdfunnelError(
        'invalid_request',
        `contextAdId ${request.contextAdId} is not an ad in the catalog`,
        'unknown_context_ad',
      );
    }
    // One arm per layer (EXPERIMENTS_CONFIG), by the user's id or this request's; none when unset.
    const assignment = this.experiments?.assign({ userId: request.userId, requestId });
    if (assignment !== undefined) {
      annotateSpan(() => ({
        'adfunnel.experiment.arms': assignment.label,
        'adfunnel.experiment.holdout': assignment.holdout,
      }));
    }
    // Serve time (tokens, billing) follows the funnel's clock; the deadline is wall time.
    const servedAt = this.clock.now();
    const started = performance.now();
    const deadlineAt = Date.now() + this.config.GATEWAY_DEADLINE_MS;
    const timings: Record<string, number> = {};
    const stages: Record<FunnelStage, StageOutcome> = {
      retrieval: 'skipped',
      ranking: 'skipped',
      auction: 'skipped',
    };
    const stage = async <T>(
      name: FunnelStage,
      stageTimeoutMs: number,
      run: (timeoutMs: number) => Promise<T>,
    ) => {
      const stageStarted = performance.now();
      const timeoutMs = Math.min(stageTimeoutMs, deadlineAt - Date.now());
      try {
        if (timeoutMs <= 0) {
          stages[name] = 'timeout';
          this.logger.warn({ msg: `${name} not called: the request deadline has passed`, requestId });
          return null;
        }
        const result = await run(timeoutMs);
        stages[name] = 'ok';
        return result;
      } catch (err) {
        stages[name] = err instanceof AdfunnelError && err.code === 'timeout' ? 'timeout' : 'failed';
        this.logger.warn({ msg: `${name} failed; degrading`, requestId, error: (err as Error).message });
        return null;
      } finally {
        timings[name] = round(performance.now() - stageStarted);
      }
    };

    // Before any work: a reused id is refused (409), and without Redis no serve could be recorded.
    const claimStarted = performance.now();
    const claimed = await this.servedRecords.claim(requestId);
    timings['claim'] = round(performance.now() - claimStarted);
    if (!claimed) {
      timings['total'] = round(performance.now() - started);
      const degraded: Degradation[] = ['served_record_unavailable'];
      return {
        requestId,
        ads: [],
        ranking: 'none',
        modelVersion: null,
        personalized: false,
        degraded,
        stages,
        timingsMs: timings,
      };
    }

    const profileStarted = performance.now();
    const { user, activityUnavailable } = await this.profiles.userContext(request, servedAt);
    timings['profile'] = round(performance.now() - profileStarted);

    const candidates = await stage('retrieval', this.config.RETRIEVAL_TIMEOUT_MS, (timeoutMs) =>
      this.bus.call(
        Rpc.retrievalCandidates,
        {
          requestId,
          deadlineAt,
          user,
          surface: request.surface,
          limit: this.config.RETRIEVAL_CANDIDATES,
          ...(request.query === undefined ? {} : { query: request.query }),
          ...(request.contextAdId === undefined ? {} : { contextAdId: request.contextAdId }),
        },
        { timeoutMs },
      ),
    );

    const adIds = candidates?.adIds ?? [];
    const scores =
      adIds.length === 0
        ? null
        : await stage('ranking', this.config.RANKING_TIMEOUT_MS, (timeoutMs) =>
            this.bus.call(
              Rpc.rankingScore,
              {
                requestId,
                deadlineAt,
                user,
                surface: request.surface,
                adIds,
                ...(request.query === undefined ? {} : { query: request.query }),
                ...(request.contextAdId === undefined ? {} : { contextAdId: request.contextAdId }),
              },
              { timeoutMs },
            ),
          );

    const auction =
      adIds.length === 0
        ? null
        : await stage('auction', this.config.AUCTION_TIMEOUT_MS, (timeoutMs) =>
            this.bus.call(
              Rpc.auctionRun,
              {
                requestId,
                deadlineAt,
                surface: request.surface,
                device: request.device,
                slots: request.slots,
                ...(request.adPositions ? { adPositions: request.adPositions } : {}),
                adIds,
                userId: user.userId,
                ...(scores ? { predictions: predictionsOf(scores) } : {}),
                ...(assignment === undefined ? {} : auctionOverridesOf(assignment, request.slots)),
              },
              { timeoutMs },
            ),
          );

    const degraded = degradationsOf(stages);
    if (activityUnavailable) degraded.unshift('user_activity_unavailable');
    const trace: FunnelTrace = {
      requestId,
      servedAt,
      user,
      scores,
      scoredAdIds: adIds,
      auction,
      ...(assignment === undefined ? {} : { experimentArms: assignment.label }),
      ...(assignment?.budgetSlice === undefined ? {} : { budgetSlice: assignment.budgetSlice.key }),
    };
    const assembled = this.assemble(request, trace);
    // An ad whose serve is not recorded can be neither billed nor attributed: no record, no ads.
    const recordStarted = performance.now();
    const recorded = await tracedStep('gateway', 'served_record.write', () =>
      this.servedRecords.write(request, trace, assembled, degraded),
    );
    timings['record'] = round(performance.now() - recordStarted);
    if (!recorded) degraded.push('served_record_unavailable');
    else this.delivery?.served(assembled);
    annotateSpan(() => ({
      'adfunnel.surface': request.surface,
      'adfunnel.stage.retrieval': stages.retrieval,
      'adfunnel.stage.ranking': stages.ranking,
      'adfunnel.stage.auction': stages.auction,
      'adfunnel.candidates': adIds.length,
      'adfunnel.auction.winners': auction?.winners.length ?? 0,
      'adfunnel.auction.budget_dropped': auction?.budgetDropped ?? 0,
      'adfunnel.ads_served': recorded ? assembled.length : 0,
      'adfunnel.degraded': degraded,
      ...(assignment !== undefined && auction !== null
        ? { 'adfunnel.auction.mechanism': auction.mechanism }
        : {}),
    }));
    this.logger.debug({
      msg: 'served',
      requestId,
      ads: recorded ? assembled.length : 0,
      budgetDropped: auction?.budgetDropped ?? 0,
      stages,
      timings,
    });
    const ranking: Ranking = auction === null || !recorded ? 'none' : scores ? 'model' : 'retrieval_order';
    timings['total'] = round(performance.now() - started);
    return {
      requestId,
      ads: recorded ? assembled : [],
      ranking,
      modelVersion: ranking === 'model' ? (scores?.modelVersion ?? null) : null,
      personalized: user.known,
      degraded,
      stages,
      timingsMs: timings,
    };
  }

  private assemble(request: AdRequest, trace: FunnelTrace): ServedAd[] {
    const { byId } = this.catalog.snapshot();
    const ads: ServedAd[] = [];
    for (const winner of trace.auction?.winners ?? []) {
      const ad = byId.get(winner.adId);
      if (!ad) {
        this.logger.warn({
          msg: 'auction winner missing from catalog snapshot; skipped',
          requestId: trace.requestId,
          adId: winner.adId,
        });
        continue;
      }
      const urls = trackingUrls({
        baseUrl: this.config.TRACKING_BASE_URL,
        secret: this.config.TRACKING_SECRET,
        claims: {
          v: 1,
          r: trace.requestId,
          u: request.userId,
          a: winner.adId,
          c: winner.campaignId,
          adv: winner.advertiserId,
          s: winner.slot,
          bt: winner.bidType,
          p: winner.price,
          t: trace.servedAt,
          exp: trace.servedAt + this.config.TRACKING_TTL_MS,
          ...(trace.budgetSlice === undefined ? {} : { bs: trace.budgetSlice }),
        },
      });
      ads.push({
        slot: winner.slot,
        position: winner.position ?? winner.slot,
        adId: winner.adId,
        campaignId: winner.campaignId,
        advertiserId: winner.advertiserId,
        creative: { title: ad.title, text: ad.text, imageUrl: ad.imageUrl, category: ad.category },
        price: { bidType: winner.bidType, amount: winner.price, currency: 'USD' },
        tracking: urls,
      });
    }
    return ads;
  }
}

/**
 * What an assignment changes in the auction request: the mechanism, some utility weights, the ad
 * load (slots capped at the arm's, never raised), and the budget slice its winners reserve from.
 * Nothing when the arms override none of them and no layer splits budgets.
 */
export function auctionOverridesOf(
  { overrides, budgetSlice }: Assignment,
  slots: number,
): Partial<Pick<AuctionRequest, 'mechanism' | 'utilityWeights' | 'slots' | 'budgetSlice'>> {
  return {
    ...(budgetSlice === undefined ? {} : { budgetSlice }),
    ...(overrides.mechanism === undefined ? {} : { mechanism: overrides.mechanism }),
    ...(overrides.utilityWeights === undefined || Object.keys(overrides.utilityWeights).length === 0
      ? {}
      : { utilityWeights: overrides.utilityWeights }),
    ...(overrides.slots === undefined ? {} : { slots: Math.min(slots, overrides.slots) }),
  };
}

function predictionsOf({ pCtr, pCvr, pHide }: ScoreResponse): NonNullable<AuctionRequest['predictions']> {
  return pHide === undefined ? { pCtr, pCvr } : { pCtr, pCvr, pHide };
}

const DEGRADATION_OF: Record<FunnelStage, Degradation> = {
  retrieval: 'retrieval_unavailable',
  ranking: 'ranking_unavailable',
  auction: 'auction_unavailable',
};

/** A stage degrades the answer when it was needed and did not deliver; `skipped` means not needed. */
function degradationsOf(stages: Record<FunnelStage, StageOutcome>): Degradation[] {
  return FUNNEL_STAGES.filter((name) => stages[name] === 'failed' || stages[name] === 'timeout').map(
    (name) => DEGRADATION_OF[name],
  );
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
