import {
  BudgetRedis,
  BudgetStore,
  type FrequencyCap,
  FrequencyCapStore,
  type ReservationRequest,
  defaultFrequencyCap,
  frequencyCapOf,
  reservationMicros,
} from '@adfunnel/budget';
import { type CatalogCampaign, CatalogSnapshotService } from '@adfunnel/catalog';
import {
  AdfunnelError,
  type AuctionRequest,
  type AuctionResponse,
  type AuctionWinner,
} from '@adfunnel/contracts';
import { Clock, InjectConfig } from '@adfunnel/platform';
import { type PredictionPriors, billingDay, isTimeZone, usdToMicros } from '@adfunnel/utility';
import { Injectable, Logger } from '@nestjs/common';
import type { AuctionConfig } from '../config.js';
import { BudgetMetrics } from './budget-metrics.js';

/** While Redis fails, one warning per this long rather than one per request. */
const WARN_EVERY_MS = 10_000;

/** An auction of one request: without `excludeCampaigns` its first run, with them a rerun. */
export type AuctionRun = (excludeCampaigns?: ReadonlySet<number>) => AuctionResponse;

/** Told which winners of a request's first run their budget refused (the delivery diagnostics). */
export interface RefusalCounter {
  refused(winners: readonly AuctionWinner[]): void;
}

/**
 * The last step of an auction: every winner must hold a reservation on its campaign's budget for the
 * day, taken for all winners of the request in one atomic Redis call. When the budget of some winner
 * cannot hold it (retrieval's view of budgets is up to BUDGET_REFRESH_MS old, and concurrent
 * requests race for the last of a budget), the reservations of the others are given back and the
 * auction runs again without those campaigns, so the slot goes to the next ad at the price the new
 * allocation sets instead of staying empty; after AUCTION_BUDGET_RERUNS reruns what is left is
 * served with its gaps. A request of a budget-split experiment reserves from its slice (its own spend
 * and reservations, the budget times the slice's share) instead of the whole budget. The admitted
 * winners then count against the user's frequency caps and ad exposure, without the answer waiting
 * for it. Without Redis no ad is served: an ad that cannot be
 * reserved could overspend.
 */
@Injectable()
export class WinnerAdmissionService {
  private readonly logger = new Logger(WinnerAdmissionService.name);
  private readonly reservationMs: number;
  private readonly priors: PredictionPriors;
  private readonly defaultCap: FrequencyCap;
  private readonly exposureHalfLifeMs: number;
  private readonly reruns: number;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly budgets: BudgetStore,
    private readonly frequencyCaps: FrequencyCapStore,
    private readonly redis: BudgetRedis,
    private readonly clock: Clock,
    @InjectConfig() config: AuctionConfig,
    private readonly metrics: BudgetMetrics,
  ) {
    this.reservationMs = config.BUDGET_RESERVATION_MS;
    this.priors = { pCtr: config.AUCTION_PRIOR_CTR, pCvr: config.AUCTION_PRIOR_CVR };
    this.defaultCap = defaultFrequencyCap(config);
    this.exposureHalfLifeMs = config.AUCTION_EXPOSURE_HALF_LIFE_MS;
    this.reruns = config.AUCTION_BUDGET_RERUNS;
  }

  /**
   * Runs the auction and reserves its winners, rerunning it without the campaigns that could not be
   * reserved. `budgetDropped` counts the winners refused over all runs; `budgetReruns` the reruns.
   */
  async admit(
    request: AuctionRequest,
    auction: AuctionRun,
    now = this.clock.now(),
    refusals?: RefusalCounter,
  ): Promise<AuctionResponse> {
    const excluded = new Set<number>();
    let response = auction();
    let dropped = 0;
    const slice = request.budgetSlice;
    const store = slice === undefined ? this.budgets : this.budgets.slice(slice.key);
    const share = slice?.share ?? 1;
    for (let rerun = 0; ; rerun++) {
      if (response.winners.length === 0) return { ...response, budgetDropped: dropped, budgetReruns: rerun };
      const { items, campaigns } = this.reservations(request.requestId, response.winners, share, now);
      const admitted = await this.reserve(store, request.requestId, items, now);
      const refused = response.winners.filter((_, i) => !admitted[i]);
      dropped += refused.length;
      if (rerun === 0 && refused.length > 0) refusals?.refused(refused);
      const last = refused.length === 0 || rerun >= this.reruns;
      this.metrics.reserved(
        items.map((item) => item.amountMicros),
        admitted,
        !last,
      );
      if (last) {
        const winners = response.winners.filter((_, i) => admitted[i]);
        if (refused.length > 0) {
          this.logger.debug({
            msg: 'winners dropped for budget',
            requestId: request.requestId,
            campaigns: refused.map((w) => w.campaignId),
            reruns: rerun,
          });
        }
        if (request.userId !== undefined) {
          this.countServed(
            request.requestId,
            request.userId,
            campaigns.filter((_, i) => admitted[i]),
            now,
          );
        }
        return { ...response, winners, budgetDropped: dropped, budgetReruns: rerun };
      }
      await this.releaseAll(
        store,
        items.filter((_, i) => admitted[i]),
      );
      for (const winner of refused) excluded.add(winner.campaignId);
      response = auction(excluded);
    }
  }

  private reservations(
    requestId: string,
    winners: readonly AuctionWinner[],
    share: number,
    now: number,
  ): { items: ReservationRequest[]; campaigns: CatalogCampaign[] } {
    const { byId } = this.catalog.snapshot();
    const campaigns = winners.map((winner) => {
      const campaign = byId.get(winner.adId)?.campaign;
      if (campaign === undefined) {
        throw new AdfunnelError('internal', `winner ad ${winner.adId} is missing from the catalog snapshot`);
      }
      return campaign;
    });
    const items = winners.map((winner, i) => this.reservation(requestId, winner, campaigns[i], share, now));
    return { items, campaigns };
  }

  private async reserve(
    store: BudgetStore,
    requestId: string,
    items: ReservationRequest[],
    now: number,
  ): Promise<boolean[]> {
    try {
      return await store.reserve(items, now, this.reservationMs);
    } catch (error) {
      const reason = this.redis.explain(error);
      this.metrics.budgetUnavailable();
      this.logger.warn({ msg: 'budget reservation failed; serving no ads', requestId, error: reason });
      throw new AdfunnelError(
        'unavailable',
        `budget state unavailable, no winner could be reserved: ${reason}`,
      );
    }
  }

  /** Gives back a run's reservations before the rerun; one that cannot be (Redis) expires on its own. */
  private async releaseAll(store: BudgetStore, items: readonly ReservationRequest[]): Promise<void> {
    try {
      await Promise.all(items.map((item) => store.release(item.day, item.campaignId, item.reservationId)));
    } catch (error) {
      this.metrics.budgetUnavailable();
      throw new AdfunnelError(
        'unavailable',
        `budget state unavailable while rerunning the auction: ${this.redis.explain(error)}`,
      );
    }
  }

  private reservation(
    requestId: string,
    winner: AuctionWinner,
    campaign: CatalogCampaign,
    share: number,
    now: number,
  ): ReservationRequest {
    const zone = campaign.timezone && isTimeZone(campaign.timezone) ? campaign.timezone : 'UTC';
    return {
      day: billingDay(now, zone),
      campaignId: winner.campaignId,
      // The impression's charge releases `<requestId>:<slot>`: the tracking token carries both.
      reservationId: `${requestId}:${winner.slot}`,
      amountMicros: reservationMicros({
        bidType: winner.bidType,
        price: winner.price,
        pCtr: winner.pCtr ?? this.priors.pCtr,
        pCvr: winner.pCvr ?? this.priors.pCvr,
      }),
      // A budget-split experiment's slice holds its share of the budget, rounded down.
      budgetMicros: Math.floor(usdToMicros(campaign.dailyBudget) * share),
    };
  }

  private countServed(requestId: string, userId: string, campaigns: CatalogCampaign[], now: number): void {
    const served = campaigns.flatMap((campaign) => {
      const cap = frequencyCapOf(campaign, this.defaultCap);
      return cap === undefined ? [] : [{ campaignId: campaign.id, windowHours: cap.windowHours }];
    });
    const exposure = { ads: campaigns.length, halfLifeMs: this.exposureHalfLifeMs };
    this.frequencyCaps.recordServed(userId, served, now, exposure).catch((error: unknown) => {
      this.metrics.capsFailed();
      if (now - this.lastWarnAt < WARN_EVERY_MS) return;
      this.lastWarnAt = now;
      this.logger.warn({
        msg: 'frequency caps and exposure not counted',
        requestId,
        userId,
        error: this.redis.explain(error),
      });
    });
  }
}
