import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PacingStore } from '@adfunnel/budget';
import { AdvertiserApiKeyService, AdvertiserEntity, CampaignEntity } from '@adfunnel/catalog';
import { seedCatalog } from '@adfunnel/catalog-seed';
import {
  CampaignDaySpendEntity,
  LedgerEntryEntity,
  TrackingEventEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import { DAY_MS, HOUR_MS, TrafficCurve, localDayOf } from '@adfunnel/pacing';
import { scaledClockSpec } from '@adfunnel/platform';
import { type MarketplaceSpec, Rng } from '@adfunnel/simulator';
import { usdToMicros } from '@adfunnel/utility';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { HttpFunnelClient } from '../funnel-client.js';
import { MarketplaceOracle } from '../oracle/marketplace-oracle.js';
import type { RunSummary } from '../run-stats.js';
import { type ScheduleLag, TrafficDriver } from '../traffic-driver.js';
import { type CampaignDay, type PacingDayReport, pacingDayReport } from './pacing-day-report.js';

/** The history day, then the measured day (UTC; every advertiser of the run bills in UTC). */
const HISTORY_DAY = Date.UTC(2026, 2, 1);
const MEASURED_DAY = HISTORY_DAY + DAY_MS;
/** Wall time from starting the funnel to its clock's midnight at first; then 1.5x what a start took. */
const FIRST_START_MARGIN_MS = 20_000;
const MIN_START_MARGIN_MS = 6_000;
/** A campaign's demand is measured well enough from this many charges on the history day. */
const MIN_HISTORY_CHARGES = 10;
/** Under --bid-types cpm: every campaign buys impressions, bids log-normal around this CPM. */
const CPM_MEDIAN_BID = 20;

export type DayBidTypes = 'seeded' | 'cpm';

export interface SimulatedDayOptions {
  /** Repository root: the built apps are started from here. */
  root: string;
  spec: MarketplaceSpec;
  population: number;
  /** Visits on the history day (teaches the traffic curve, measures each campaign's demand) and on the measured day. */
  historyRequests: number;
  dayRequests: number;
  /** Wall seconds each simulated day lasts. */
  historySeconds: number;
  daySeconds: number;
  concurrency: number;
  slots: number;
  /** Mean organic engagements per visit (TrafficDriverOptions.organicPerVisit); 0: none. */
  organicPerVisit: number;
  seed: number;
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
  basePort: number;
  natsUrl: string;
  redisUrl: string;
  keep: boolean;
  log: (line: string) => void;
  onProgress?: (phase: string, completed: number) => void;
}

export interface DayTraffic {
  readonly summary: RunSummary;
  readonly lag: ScheduleLag;
  readonly speed: number;
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
  private readonly started = performance.now();
  private readonly runId = `simday_${Date.now().toString(36)}_${process.pid}`;
  private readonly serviceLines: string[] = [];
  private eventsSent = 0;
  private startMarginMs = FIRST_START_MARGIN_MS;

  constructor(private readonly o: SimulatedDayOptions) {}

  async run(): Promise<SimulatedDayResult> {
    const work = await mkdtemp(join(tmpdir(), 'adfunnel-day-'));
    const sqlitePath = join(work, 'catalog.sqlite');
    let launcher: FunnelLauncher | undefined;
    let ds: DataSource | undefined;
    const redis = new Redis(this.o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      await assertPortsFree(this.o.basePort, 5);
      this.step(`working in ${work}`);
      ds = await openFunnelDatabase({ sqlitePath });
      await migrateFunnelDatabase(ds);
      const seeded = await seedCatalog(ds, this.o.spec);
      await ds.query(`UPDATE advertisers SET timezone = 'UTC'`);
      if (this.o.bidTypes === 'cpm') await this.bidCpm(ds);
      this.step(
        `catalog seeded: ${seeded.tables.ads.expected} ads of ${this.o.spec.advertisers * this.o.spec.campaignsPerAdvertiser} campaigns ` +
          `(${this.o.bidTypes === 'cpm' ? `all CPM, median bid $${CPM_MEDIAN_BID}` : 'seeded bid types'}), every advertiser billing in UTC`,
      );
      const advertisers = await ds.getRepository(AdvertiserEntity).find({ select: { id: true } });
      const issued = await new AdvertiserApiKeyService(ds).issue(
        advertisers.map((a) => a.id),
        'simulated day',
      );
      const apiKeys = new Map(issued.map((k) => [k.advertiserId, k.key]));
      const oracle = MarketplaceOracle.build(this.o.spec);

      const historySpeed = DAY_MS / (this.o.historySeconds * 1000);
      let midnightAt: number;
      ({ launcher, midnightAt } = await this.startFunnel(sqlitePath, HISTORY_DAY, historySpeed));
      const history = await this.drive(
        'history day',
        launcher,
        midnightAt,
        oracle,
        apiKeys,
        0,
        this.o.historyRequests,
      );
      await this.waitForEvents(ds);
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
      const measured = await this.drive(
        'measured day',
        launcher,
        midnightAt,
        oracle,
        apiKeys,
        1,
        this.o.dayRequests,
      );
      await this.waitForEvents(ds);
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
        wallSeconds: this.elapsed(),
        workDir: work,
      };
    } catch (err) {
      const tail = this.serviceLines.slice(-40).join('\n');
      throw new Error(`${(err as Error).message}${tail ? `\n--- last service output ---\n${tail}` : ''}`, {
        cause: err,
      });
    } finally {
      await launcher?.stopAll();
      await ds?.destroy();
      await this.cleanRedis(redis).catch((err: unknown) =>
        this.o.log(`redis cleanup: ${(err as Error).message}`),
      );
      redis.disconnect();
      if (!this.o.keep) await rm(work, { recursive: true, force: true });
    }
  }

  /** The funnel on a clock that shows `midnight` once it is up (a margin from now) and runs `speed` times the wall. */
  private async startFunnel(
    sqlitePath: string,
    midnight: number,
    speed: number,
  ): Promise<{ launcher: FunnelLauncher; midnightAt: number }> {
    const starting = Date.now();
    const anchor = starting + this.startMarginMs;
    const launcher = new FunnelLauncher({
      root: this.o.root,
      env: {
        ...isolatedFunnelEnv({
          runId: this.runId,
          basePort: this.o.basePort,
          deadlineMs: 2000,
          stageTimeoutMs: 1000,
        }),
        SQLITE_PATH: sqlitePath,
        REDIS_URL: this.o.redisUrl,
        NATS_URL: this.o.natsUrl,
        CLOCK: scaledClockSpec(midnight, anchor, speed),
        PACING: this.o.pacing,
        PACING_SLICE_MS: String(this.o.sliceSeconds * 1000),
        PACING_REFRESH_MS: '100',
        // An hour of simulated time: reservations outlive the wall-clock latency of an impression.
        BUDGET_RESERVATION_MS: String(HOUR_MS),
        CATALOG_REFRESH_MS: '0',
      },
      onLine: (app, line) => {
        this.serviceLines.push(`${app}: ${line}`);
        if (this.serviceLines.length > 200) this.serviceLines.shift();
      },
      readyTimeoutMs: 120_000,
    });
    await launcher.start();
    this.startMarginMs = Math.max(MIN_START_MARGIN_MS, 1.5 * (Date.now() - starting));
    const wait = anchor - Date.now();
    this.step(
      `funnel up on CLOCK ${scaledClockSpec(midnight, anchor, speed)} (${speed.toFixed(0)}x); midnight in ${(wait / 1000).toFixed(1)} s`,
    );
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return { launcher, midnightAt: anchor };
  }

  private async drive(
    phase: string,
    launcher: FunnelLauncher,
    midnightAt: number,
    oracle: MarketplaceOracle,
    apiKeys: ReadonlyMap<number, string>,
    dayIndex: number,
    requests: number,
  ): Promise<DayTraffic> {
    const speed =
      dayIndex === 0 ? DAY_MS / (this.o.historySeconds * 1000) : DAY_MS / (this.o.daySeconds * 1000);
    const startAt = dayIndex * 86_400;
    this.step(`${phase}: about ${requests} visits over ${(DAY_MS / speed / 1000).toFixed(0)} s of wall time`);
    const driver = new TrafficDriver(
      {
        spec: this.o.spec,
        seed: this.o.seed + dayIndex,
        population: this.o.population,
        arrivalsPerDay: requests,
        startAt,
        endAt: startAt + 86_400,
        // Each visit leaves when the funnel's clock shows its time.
        wallTimeOf: (at) => midnightAt + ((at - startAt) * 1000) / speed,
        maxRequests: null,
        durationMs: null,
        rate: 0,
        concurrency: this.o.concurrency,
        slots: this.o.slots,
        oracleSample: 0,
        organicPerVisit: this.o.organicPerVisit,
        retrievalLimit: 200,
        gateway: launcher.url('gateway'),
        runId: `${this.runId}-${dayIndex}`,
      },
      new HttpFunnelClient({ gatewayUrl: launcher.url('gateway'), apiKeys }),
      oracle,
      null,
      (progress) => this.o.onProgress?.(phase, progress.completed),
    );
    const summary = await driver.run();
    const lag = driver.scheduleLag();
    this.eventsSent += summary.impressions + summary.clicks + summary.conversions;
    this.step(
      `${phase}: ${summary.requests} visits (${summary.errors} errors), fill ${summary.fillRate === null ? 'n/a' : `${(summary.fillRate * 100).toFixed(1)}%`}, ` +
        `${summary.impressions} impressions, ${summary.clicks} clicks, ${summary.conversions} conversions; ` +
        `${lag.lateOverOneSecond} visits over 1 s late (max ${lag.maxLateMs} ms)`,
    );
    return { summary, lag, speed };
  }

  /** Logging bills through a queue after the answer: wait until the store holds every event sent. */
  private async waitForEvents(ds: DataSource): Promise<void> {
    const deadline = Date.now() + 120_000;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = await ds.getRepository(TrackingEventEntity).count();
      if (stored >= this.eventsSent) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    this.step(`events stored: ${stored} of ${this.eventsSent} sent`);
  }

  private async bidCpm(ds: DataSource): Promise<void> {
    const rng = Rng.derive(this.o.seed, 'day-cpm-bids');
    const campaigns = await ds
      .getRepository(CampaignEntity)
      .find({ select: { id: true }, order: { id: 'ASC' } });
    for (const { id } of campaigns) {
      const bid = Math.round(rng.logNormal(CPM_MEDIAN_BID, 0.5) * 100) / 100;
      await ds.getRepository(CampaignEntity).update(id, { bidType: 'CPM', bid });
    }
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

  private async cleanRedis(redis: Redis): Promise<void> {
    if (redis.status !== 'ready') await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.runId}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }

  private step(message: string): void {
    this.o.log(`[${this.elapsed().toFixed(0).padStart(4)} s] ${message}`);
  }

  private elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}

/**
 * The launcher takes any answer to GET /health for its service: a port another funnel holds (a test
 * run) would look healthy while the service started here exits. Refuse to start instead.
 */
async function assertPortsFree(basePort: number, count: number): Promise<void> {
  for (let port = basePort; port < basePort + count; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (!free) {
      throw new Error(
        `port ${port} is in use (another funnel or test?); the run needs ${basePort}-${basePort + count - 1} free, pass --base-port`,
      );
    }
  }
}

function round6(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
