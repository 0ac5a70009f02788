import { BudgetRedis, BudgetStore, type CampaignBudget, reservationMicros } from '@adfunnel/budget';
import { type CatalogSnapshot, CatalogSnapshotService } from '@adfunnel/catalog';
import { Clock, InjectConfig } from '@adfunnel/platform';
import { DEFAULT_PREDICTION_PRIORS, billingDay, isTimeZone, usdToMicros } from '@adfunnel/utility';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RetrievalConfig } from '../config.js';

/** How long startup waits for Redis before serving without the budget state. */
const STARTUP_WAIT_MS = 2_000;

export interface ExhaustedCampaignsStatus {
  /** Campaigns out for the day: their charged spend leaves no room for one more ad. */
  readonly exhausted: number;
  /** Campaigns out for now: spend plus live reservations leaves no room until impressions settle. */
  readonly committed: number;
  /** Epoch ms of the last refresh that reached Redis; undefined before the first. */
  readonly refreshedAt: number | undefined;
  /** The refresh failure since then, if any. */
  readonly failure: { readonly message: string; readonly since: number } | undefined;
}

/** The campaigns left out of every request for their budget, from one refresh. */
export interface BudgetExclusions {
  /** Exhausted or committed: what current() answers. */
  readonly excluded: ReadonlySet<number>;
  /** Of those, the ones whose charged spend alone leaves no room for one more ad today. */
  readonly exhausted: ReadonlySet<number>;
}

interface BudgetsByZone {
  readonly version: string;
  /** Time zone -> (campaign id -> daily budget and one ad at the priors), active campaigns only. */
  readonly zones: ReadonlyMap<string, ReadonlyMap<number, CampaignBudget>>;
}

/**
 * The campaigns that cannot take one more ad on their advertiser's billing day, held in memory for the
 * index's eligibility and reloaded from Redis every BUDGET_REFRESH_MS: those whose charged spend has
 * reached their daily budget (exhausted), and those whose spend plus the reservations of served ads
 * not yet charged has (committed). Leaving the committed out too matters as much: a campaign whose
 * budget is all reserved keeps winning auctions whose reservation the auction then refuses, so its
 * slot stays empty, and with every cold user shown the same popular list a few such campaigns
 * emptied most answers. If Redis is away the last known set stays in force, and health says so.
 */
@Injectable()
export class ExhaustedCampaignsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExhaustedCampaignsService.name);
  private readonly refreshMs: number;
  private excluded: ReadonlySet<number> = new Set();
  private exhausted: ReadonlySet<number> = new Set();
  private sets: BudgetExclusions = { excluded: this.excluded, exhausted: this.exhausted };
  private committed = 0;
  private budgets: BudgetsByZone | undefined;
  private refreshedAt: number | undefined;
  private failure: { message: string; since: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly store: BudgetStore,
    private readonly redis: BudgetRedis,
    private readonly clock: Clock,
    @InjectConfig() config: RetrievalConfig,
  ) {
    this.refreshMs = config.BUDGET_REFRESH_MS;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!(await this.redis.ready(STARTUP_WAIT_MS))) {
      this.logger.warn(
        `Redis did not answer within ${STARTUP_WAIT_MS} ms: serving without the budget state until it does`,
      );
    }
    await this.refresh();
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The campaigns to leave out of every request (exhausted and committed); never throws. */
  current(): ReadonlySet<number> {
    return this.excluded;
  }

  /**
   * current() and, of it, the campaigns out for the day (the rest are out until reservations
   * settle): one object per refresh, so a caller holding it knows which set a request was served with.
   */
  exclusions(): BudgetExclusions {
    return this.sets;
  }

  status(): ExhaustedCampaignsStatus {
    return {
      exhausted: this.exhausted.size,
      committed: this.committed,
      refreshedAt: this.refreshedAt,
      failure: this.failure,
    };
  }

  /** Reloads the set now; on failure keeps the previous one. Never rejects. */
  async refresh(now = this.clock.now()): Promise<void> {
    try {
      const zones = this.budgetsByZone(this.catalog.snapshot()).zones;
      const standings = await Promise.all(
        [...zones].map(([zone, budgets]) => this.store.standing(billingDay(now, zone), budgets, now)),
      );
      const exhausted = new Set<number>();
      const excluded = new Set<number>();
      let committed = 0;
      for (const standing of standings) {
        for (const id of standing.exhausted) {
          exhausted.add(id);
          excluded.add(id);
        }
        for (const id of standing.committed) excluded.add(id);
        committed += standing.committed.size;
      }
      this.logChanges(exhausted);
      this.exhausted = exhausted;
      this.excluded = excluded;
      this.sets = { excluded, exhausted };
      this.committed = committed;
      this.refreshedAt = now;
      if (this.failure !== undefined) {
        this.logger.log(`budget state reachable again after ${now - this.failure.since} ms`);
        this.failure = undefined;
      }
    } catch (error) {
      const message = this.redis.explain(error);
      if (this.failure === undefined) {
        this.failure = { message, since: now };
        this.logger.warn(
          `budget state refresh failed, serving with the last known ${this.excluded.size} exhausted or committed campaigns: ${message}`,
        );
      } else {
        this.failure = { message, since: this.failure.since };
      }
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, this.refreshMs);
    this.timer.unref();
  }

  private logChanges(next: ReadonlySet<number>): void {
    for (const id of next) {
      if (!this.exhausted.has(id)) this.logger.log({ msg: 'campaign budget exhausted', campaignId: id });
    }
  }

  /**
   * Active campaigns grouped by time zone, computed once per catalog version, each with its daily
   * budget and one ad's reservation at its bid and the priors (for CPC and CPA): the least room it
   * needs to serve once more (the store raises it to the campaign's latest reservation size).
   * Otherwise a campaign a few micros short of its budget would keep winning slots whose
   * reservation the auction then refuses, leaving them empty.
   */
  private budgetsByZone(snapshot: CatalogSnapshot): BudgetsByZone {
    if (this.budgets?.version === snapshot.version) return this.budgets;
    const zones = new Map<string, Map<number, CampaignBudget>>();
    for (const { campaign } of snapshot.ads) {
      if (campaign.status !== 'active') continue;
      const zone = this.zoneOf(campaign.id, campaign.timezone);
      let budgets = zones.get(zone);
      if (budgets === undefined) zones.set(zone, (budgets = new Map<number, CampaignBudget>()));
      const oneAdMicros = reservationMicros({
        bidType: campaign.bidType,
        price: campaign.bid,
        ...DEFAULT_PREDICTION_PRIORS,
      });
      budgets.set(campaign.id, { budgetMicros: usdToMicros(campaign.dailyBudget), oneAdMicros });
    }
    this.budgets = { version: snapshot.version, zones };
    return this.budgets;
  }

  private zoneOf(campaignId: number, timezone: string | undefined): string {
    if (timezone === undefined || timezone === '') return 'UTC';
    if (isTimeZone(timezone)) return timezone;
    this.logger.error({ msg: 'unknown time zone; budget day taken in UTC', campaignId, timezone });
    return 'UTC';
  }
}
