import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PacingStore } from '@adfunnel/budget';
import { CampaignEntity } from '@adfunnel/catalog';
import {
  CampaignDaySpendEntity,
  LedgerEntryEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import type { FunnelLauncher } from '@adfunnel/funnel';
import { DAY_MS, HOUR_MS, TrafficCurve, localDayOf } from '@adfunnel/pacing';
import { type MarketplaceSpec, Rng } from '@adfunnel/simulator';
import { usdToMicros } from '@adfunnel/utility';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { MarketplaceOracle } from '../oracle/marketplace-oracle.js';
import { type DayBidTypes, type DayTraffic, OwnFunnel, type OwnFunnelOptions } from '../own-funnel.js';
import { type CampaignDay, type PacingDayReport, pacingDayReport } from './pacing-day-report.js';

export type { DayBidTypes, DayTraffic } from '../own-funnel.js';

/** The history day, then the measured day (UTC; every advertiser of the run bills in UTC). */
const HISTORY_DAY = Date.UTC(2026, 2, 1);
const MEASURED_DAY = HISTORY_DAY + DAY_MS;
/** A campaign's demand is measured well enough from this many charges on the history day. */
const MIN_HISTORY_CHARGES = 10;
export interface SimulatedDayOptions extends OwnFunnelOptions {
  /** Visits on the history day (teaches the traffic curve, measures each campaign's demand) and on the measured day. */
  historyRequests: number;
  dayRequests: number;
  /** Wall seconds each simulated day lasts. */
  historySeconds: number;
  daySeconds: number;
  /** Share of the campaigns that spent on the history day given a budget below their demand. */
  limitedShare: number;
  /** Such a budget is this fraction of the demand, drawn uniformly per campaign. */
  budgetFraction: readonly [number, number];
  /** Pacing slice, funnel-clock seconds. */
  sliceSeconds: number;
  /**
   * `cpm`: every campaign bids CPM, so that its spend is charged per impression (dense enough to
   * follow hour by hour); `seeded`: the marketplace's own mix, mostly CPC and CPA.
   */
  bidTypes: DayBidTypes;
  pacing: 'on' | 'off';
  keep: boolean;
}

export interface SimulatedDayResult {
  readonly report: PacingDayReport;
  readonly campaigns: readonly CampaignDay[];
  readonly curve: readonly number[];
  readonly history: DayTraffic;
  readonly measured: DayTraffic;
  readonly settings: {
    readonly spec: MarketplaceSpec;
    readonly population: number;
    readonly historyRequests: number;
    readonly dayRequests: number;
    readonly sliceSeconds: number;
    readonly bidTypes: DayBidTypes;
    readonly pacing: 'on' | 'off';
    readonly limitedShare: number;
    readonly budgetFraction: readonly [number, number];
  };
  readonly wallSeconds: number;
  readonly workDir: string;
}

interface DesignedBudget {
  readonly campaignId: number;
  readonly budgetUsd: number;
  readonly limited: boolean;
}

/**
 * A full simulated day through the real funnel under a scaled clock. The funnel runs a history day
 * first, at lower volume, which teaches the auction the traffic curve and measures what each
 * campaign spends unthrottled; the campaigns then get budgets, most of them below that demand, and
 * the funnel restarts on a clock at the next midnight for the measured day. The ledger tells how
 * each budget-limited campaign's spend went against the target curve.
 */
export class SimulatedDay {
  private readonly funnel: OwnFunnel;

  constructor(private readonly o: SimulatedDayOptions) {
    this.funnel = new OwnFunnel(o, 'simday');
  }

  private get runId(): string {
    return this.funnel.runId;
  }

  async run(): Promise<SimulatedDayResult> {
    const work = await mkdtemp(join(tmpdir(), 'adfunnel-day-'));
    const sqlitePath = join(work, 'catalog.sqlite');
    let launcher: FunnelLauncher | undefined;
    let ds: DataSource | undefined;
    const redis = new Redis(this.o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      this.step(`working in ${work}`);
      ds = await openFunnelDatabase({ sqlitePath });
      await migrateFunnelDatabase(ds);
      const apiKeys = await this.funnel.seed(ds, this.o.bidTypes);
      const oracle = MarketplaceOracle.build(this.o.spec);

      const historySpeed = DAY_MS / (this.o.historySeconds * 1000);
      let midnightAt: number;
      ({ launcher, midnightAt } = await this.startFunnel(sqlitePath, HISTORY_DAY, historySpeed));
      const history = await this.funnel.drive(
        {
          phase: 'history day',
          dayIndex: 0,
          requests: this.o.historyRequests,
          wallSeconds: this.o.historySeconds,
        },
        launcher,
        midnightAt,
        oracle,
        apiKeys,
      );
      await this.funnel.waitForEvents(ds);
      const budgets = await this.designBudgets(ds);
      await launcher.stopAll();
      launcher = undefined;
      await redis.connect();
      await this.forgetPacingSlices(redis);
      for (const budget of budgets) {
        await ds.getRepository(CampaignEntity).update(budget.campaignId, { dailyBudget: budget.budgetUsd });
      }
      this.step(
        `budgets set: ${budgets.filter((b) => b.limited).length} campaigns below their demand, ${budgets.filter((b) => !b.limited).length} above it`,
      );

      const speed = DAY_MS / (this.o.daySeconds * 1000);
      ({ launcher, midnightAt } = await this.startFunnel(sqlitePath, MEASURED_DAY, speed));
      const measured = await this.funnel.drive(
        { phase: 'measured day', dayIndex: 1, requests: this.o.dayRequests, wallSeconds: this.o.daySeconds },
        launcher,
        midnightAt,
        oracle,
        apiKeys,
      );
      await this.funnel.waitForEvents(ds);
      await launcher.stopAll();
      launcher = undefined;

      const counts = await new PacingStore(redis, this.runId).requestCounts(HISTORY_DAY, MEASURED_DAY);
      const curve = TrafficCurve.learn(counts);
      const campaigns = await this.campaignDays(ds, budgets);
      const report = pacingDayReport(campaigns, curve, localDayOf(MEASURED_DAY, 'UTC'));
      return {
        report,
        campaigns,
        curve: curve.shares,
        history,
        measured,
        settings: {
          spec: this.o.spec,
          population: this.o.population,
          historyRequests: this.o.historyRequests,
          dayRequests: this.o.dayRequests,
          sliceSeconds: this.o.sliceSeconds,
          bidTypes: this.o.bidTypes,
          pacing: this.o.pacing,
          limitedShare: this.o.limitedShare,
          budgetFraction: this.o.budgetFraction,
        },
        wallSeconds: this.funnel.elapsed(),
        workDir: work,
      };
    } catch (err) {
      throw this.funnel.withServiceOutput(err);
    } finally {
      await launcher?.stopAll();
      await ds?.destroy();
      await this.funnel
        .cleanRedis(redis)
        .catch((err: unknown) => this.o.log(`redis cleanup: ${(err as Error).message}`));
      redis.disconnect();
      if (!this.o.keep) await rm(work, { recursive: true, force: true });
    }
  }

  /** The funnel on the day's clock, pacing as the options say. */
  private startFunnel(
    sqlitePath: string,
    midnight: number,
    speed: number,
  ): Promise<{ launcher: FunnelLauncher; midnightAt: number }> {
    return this.funnel.start(sqlitePath, midnight, speed, {
      PACING: this.o.pacing,
      PACING_SLICE_MS: String(this.o.sliceSeconds * 1000),
      PACING_REFRESH_MS: '100',
      // An hour of simulated time: reservations outlive the wall-clock latency of an impression.
      BUDGET_RESERVATION_MS: String(HOUR_MS),
    });
  }

  /**
   * Budgets for the measured day from the history day's charged spend, scaled to the measured day's
   * volume: a share of the campaigns whose demand was measured (enough charges) get a fraction of
   * it, the rest three times it (or their own budget, if higher).
   */
  private async designBudgets(ds: DataSource): Promise<DesignedBudget[]> {
    const [spent, campaigns] = await Promise.all([
      ds.getRepository(CampaignDaySpendEntity).findBy({ billingDay: localDayOf(HISTORY_DAY, 'UTC').day }),
      ds.getRepository(CampaignEntity).find({
        select: { id: true, dailyBudget: true, status: true },
        order: { id: 'ASC' },
      }),
    ]);
    const scale = this.o.dayRequests / this.o.historyRequests;
    const historyOf = new Map(spent.map((s) => [s.campaignId, s]));
    const [low, high] = this.o.budgetFraction;
    const rng = Rng.derive(this.o.seed, 'day-budgets');
    const budgets: DesignedBudget[] = [];
    for (const campaign of campaigns) {
      const history = historyOf.get(campaign.id);
      if (campaign.status !== 'active' || history === undefined || history.entries < MIN_HISTORY_CHARGES)
        continue;
      const demand = (history.chargedMicros / 1e6) * scale;
      if (rng.next() < this.o.limitedShare) {
        const fraction = low + (high - low) * rng.next();
        budgets.push({ campaignId: campaign.id, budgetUsd: round6(demand * fraction), limited: true });
      } else {
        budgets.push({
          campaignId: campaign.id,
          budgetUsd: round6(Math.max(campaign.dailyBudget, 3 * demand)),
          limited: false,
        });
      }
    }
    return budgets;
  }

  /** Each designed campaign's measured day from the ledger: totals, and charges per hour. */
  private async campaignDays(ds: DataSource, budgets: readonly DesignedBudget[]): Promise<CampaignDay[]> {
    const day = localDayOf(MEASURED_DAY, 'UTC');
    const [totals, entries, campaigns] = await Promise.all([
      ds.getRepository(CampaignDaySpendEntity).findBy({ billingDay: day.day }),
      ds.getRepository(LedgerEntryEntity).find({
        select: { campaignId: true, occurredAt: true, chargedMicros: true },
        where: { billingDay: day.day },
      }),
      ds.getRepository(CampaignEntity).find({ select: { id: true, bidType: true, pacing: true } }),
    ]);
    const totalOf = new Map(totals.map((t) => [t.campaignId, t]));
    const campaignOf = new Map(campaigns.map((c) => [c.id, c]));
    const hours = Math.round((day.endMs - day.startMs) / HOUR_MS);
    const hourly = new Map<number, { micros: number[]; events: number[] }>();
    for (const entry of entries) {
      if (entry.chargedMicros <= 0) continue;
      let row = hourly.get(entry.campaignId);
      if (row === undefined) {
        row = { micros: new Array<number>(hours).fill(0), events: new Array<number>(hours).fill(0) };
        hourly.set(entry.campaignId, row);
      }
      const hour = Math.min(hours - 1, Math.max(0, Math.floor((entry.occurredAt - day.startMs) / HOUR_MS)));
      row.micros[hour] += entry.chargedMicros;
      row.events[hour] += 1;
    }
    return budgets.map((budget) => {
      const total = totalOf.get(budget.campaignId);
      const campaign = campaignOf.get(budget.campaignId)!;
      const row = hourly.get(budget.campaignId);
      return {
        campaignId: budget.campaignId,
        bidType: campaign.bidType,
        pacing: campaign.pacing,
        budgetMicros: total?.budgetMicros ?? usdToMicros(budget.budgetUsd),
        chargedMicros: total?.chargedMicros ?? 0,
        overdeliveredMicros: total?.overdeliveredMicros ?? 0,
        hourlyMicros: row?.micros ?? new Array<number>(hours).fill(0),
        hourlyEvents: row?.events ?? new Array<number>(hours).fill(0),
        budgetLimited: budget.limited,
      };
    });
  }

  /**
   * The history funnel's clock ran on past midnight while it stopped, and the measured day's clock
   * starts at midnight again: its slices would look computed already. A real clock never goes back;
   * the rates and controller states go, the logged request counts (the traffic curve) stay.
   */
  private async forgetPacingSlices(redis: Redis): Promise<void> {
    const keys = new PacingStore(redis, this.runId).keys;
    await redis.del(keys.pacingSlice(), keys.pacingLock(), keys.pacingRates(), keys.pacingStates());
  }

  private step(message: string): void {
    this.funnel.step(message);
  }
}

function round6(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
