import { randomUUID } from 'node:crypto';
import { BudgetRedis, BudgetStore, type PacingRate, PacingStore, type PacingUpdate } from '@adfunnel/budget';
import { type CatalogCampaign, CatalogSnapshotService } from '@adfunnel/catalog';
import {
  DAY_MS,
  HOUR_MS,
  type LocalDay,
  PacingController,
  TrafficCurve,
  localDayOf,
  passesPacing,
} from '@adfunnel/pacing';
import { Clock, InjectConfig } from '@adfunnel/platform';
import { isTimeZone, usdToMicros } from '@adfunnel/utility';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AuctionConfig } from '../config.js';

/** The lock of a slice's update outlives a slow update, not a dead replica for long. */
const LOCK_TTL_MS = 5_000;

export interface PacingStatus {
  readonly enabled: boolean;
  /** Paced campaigns with a rate below 1. */
  readonly throttled: number;
  readonly rates: number;
  /** Wall-clock epoch ms of the last reload of the shared rates. */
  readonly refreshedAt: number | undefined;
  /** Slices this replica computed (the others' came from Redis). */
  readonly slicesComputed: number;
  readonly failure: { readonly message: string; readonly since: number } | undefined;
}

interface PacedCampaign {
  readonly id: number;
  readonly budgetMicros: number;
  readonly timeZone: string;
}

/**
 * Even pacing at serve time, shared across auction replicas through Redis: a candidate of an `even`
 * campaign takes part in an auction with the campaign's pass-through rate (hash of request and
 * campaign, so replicas and replays agree). Every PACING_REFRESH_MS each replica flushes its request
 * counts per hour and reloads the rates; once per PACING_SLICE_MS of the funnel's clock one replica,
 * under a lock, learns the traffic curve, reads the day's spend and sets every rate (libs/pacing).
 * Without Redis the last known rates stay in force.
 */
@Injectable()
export class PacingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PacingService.name);
  private readonly owner = randomUUID();
  private readonly controller: PacingController;
  private readonly enabled: boolean;
  private readonly sliceMs: number;
  private readonly refreshMs: number;
  private readonly historyDays: number;
  private rates: ReadonlyMap<number, PacingRate> = new Map();
  private pending = new Map<number, number>();
  private curve: { dayStartMs: number; curve: TrafficCurve } | undefined;
  private lastSliceTried = Number.NEGATIVE_INFINITY;
  private slicesComputed = 0;
  private refreshedAt: number | undefined;
  private failure: { message: string; since: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly store: PacingStore,
    private readonly budgets: BudgetStore,
    private readonly redis: BudgetRedis,
    private readonly clock: Clock,
    @InjectConfig() config: AuctionConfig,
  ) {
    this.enabled = config.PACING === 'on';
    this.sliceMs = config.PACING_SLICE_MS;
    this.refreshMs = config.PACING_REFRESH_MS;
    this.historyDays = config.PACING_HISTORY_DAYS;
    this.controller = new PacingController({
      minRate: config.PACING_MIN_RATE,
      gapClosingMs: config.PACING_GAP_CLOSING_MS,
      demandHalfLifeMs: config.PACING_DEMAND_HALF_LIFE_MS,
    });
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.flushCounts().catch(() => undefined);
  }

  /** Whether a candidate of `campaign` takes part in this request's auction. */
  admits(requestId: string, campaign: CatalogCampaign, now: number): boolean {
    if (!this.enabled || campaign.pacing !== 'even') return true;
    const rate = this.rates.get(campaign.id);
    if (rate === undefined || rate.rate >= 1 || now >= rate.validUntilMs) return true;
    return passesPacing(requestId, campaign.id, rate.rate);
  }

  /** One ad request seen at `now`, for the traffic curve (counted with pacing off too: it is history). */
  countRequest(now: number): void {
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    this.pending.set(hour, (this.pending.get(hour) ?? 0) + 1);
  }

  status(): PacingStatus {
    let throttled = 0;
    for (const rate of this.rates.values()) if (rate.rate < 1) throttled++;
    return {
      enabled: this.enabled,
      throttled,
      rates: this.rates.size,
      refreshedAt: this.refreshedAt,
      slicesComputed: this.slicesComputed,
      failure: this.failure,
    };
  }

  /** Flushes the request counts, computes the current slice if no replica has, reloads the rates. Never rejects. */
  async tick(now = this.clock.now()): Promise<void> {
    try {
      await this.flushCounts();
      if (!this.enabled) return;
      const slice = Math.floor(now / this.sliceMs);
      if (slice > this.lastSliceTried) {
        this.lastSliceTried = slice;
        await this.updateSlice(slice, now);
      }
      this.rates = await this.store.rates();
      this.refreshedAt = Date.now();
      if (this.failure !== undefined) {
        this.logger.log(`pacing state reachable again after ${Date.now() - this.failure.since} ms`);
        this.failure = undefined;
      }
    } catch (error) {
      const message = this.redis.explain(error);
      if (this.failure === undefined) {
        this.logger.warn(
          `pacing state not refreshed, keeping the last known ${this.rates.size} rates: ${message}`,
        );
      }
      this.failure = { message, since: this.failure?.since ?? Date.now() };
    }
  }

  /** Computes and commits the rates of `slice` if this replica takes its lock; true when it did. */
  async updateSlice(slice: number, now: number): Promise<boolean> {
    if (!(await this.store.lockSlice(slice, this.owner, LOCK_TTL_MS))) return false;
    let updates: PacingUpdate[];
    try {
      updates = await this.nextRates(now);
    } catch (error) {
      await this.store.unlockSlice(this.owner).catch(() => undefined);
      throw error;
    }
    const committed = await this.store.commitSlice(slice, this.owner, updates);
    if (committed) {
      this.slicesComputed++;
      this.logger.debug({
        msg: 'pacing slice committed',
        slice,
        campaigns: updates.length,
        throttled: updates.filter((u) => u.rate.rate < 1).length,
      });
    }
    return committed;
  }

  private async nextRates(now: number): Promise<PacingUpdate[]> {
    const campaigns = this.pacedCampaigns();
    if (campaigns.length === 0) return [];
    const [curve, previous] = await Promise.all([this.curveAt(now), this.store.states()]);
    const days = new Map<string, LocalDay>();
    const byDay = new Map<string, PacedCampaign[]>();
    for (const campaign of campaigns) {
      let day = days.get(campaign.timeZone);
      if (day === undefined) days.set(campaign.timeZone, (day = localDayOf(now, campaign.timeZone)));
      const group = byDay.get(day.day);
      if (group === undefined) byDay.set(day.day, [campaign]);
      else group.push(campaign);
    }
    const spend = new Map<number, number>();
    await Promise.all(
      [...byDay].map(async ([day, group]) => {
        const spent = await this.budgets.spendOf(
          day,
          group.map((c) => c.id),
        );
        for (const [id, micros] of spent) spend.set(id, micros);
      }),
    );
    return campaigns.map((campaign) => {
      const day = days.get(campaign.timeZone)!;
      const state = this.controller.next(previous.get(campaign.id), {
        day,
        budgetMicros: campaign.budgetMicros,
        spentMicros: spend.get(campaign.id) ?? 0,
        sliceStartMs: now,
        sliceEndMs: now + this.sliceMs,
        curve,
      });
      return { campaignId: campaign.id, rate: { rate: state.rate, validUntilMs: day.endMs }, state };
    });
  }

  /** The active `even` campaigns of the catalog. */
  private pacedCampaigns(): PacedCampaign[] {
    const paced = new Map<number, PacedCampaign>();
    for (const { campaign } of this.catalog.snapshot().ads) {
      if (campaign.status !== 'active' || campaign.pacing !== 'even' || paced.has(campaign.id)) continue;
      paced.set(campaign.id, {
        id: campaign.id,
        budgetMicros: usdToMicros(campaign.dailyBudget),
        timeZone: campaign.timezone && isTimeZone(campaign.timezone) ? campaign.timezone : 'UTC',
      });
    }
    return [...paced.values()];
  }

  /**
   * The traffic curve from the last PACING_HISTORY_DAYS complete UTC days, learnt once a day. Today's
   * hours are left out: they would weigh the hours gone by against those to come by today's volume
   * rather than by the shape of a day.
   */
  private async curveAt(now: number): Promise<TrafficCurve> {
    const dayStartMs = Math.floor(now / DAY_MS) * DAY_MS;
    if (this.curve?.dayStartMs === dayStartMs) return this.curve.curve;
    const counts = await this.store.requestCounts(dayStartMs - this.historyDays * DAY_MS, dayStartMs);
    const curve = TrafficCurve.learn(counts);
    this.curve = { dayStartMs, curve };
    return curve;
  }

  private async flushCounts(): Promise<void> {
    if (this.pending.size === 0) return;
    const counts = this.pending;
    this.pending = new Map();
    try {
      await this.store.countRequests(counts);
    } catch (error) {
      for (const [hour, n] of counts) this.pending.set(hour, (this.pending.get(hour) ?? 0) + n);
      throw error;
    }
  }

  private schedule(delayMs = this.refreshMs): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule();
      });
    }, delayMs);
    this.timer.unref();
  }
}
