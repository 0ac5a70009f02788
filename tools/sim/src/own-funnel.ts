import { createServer } from 'node:net';
import { AdvertiserApiKeyService, AdvertiserEntity, CampaignEntity } from '@adfunnel/catalog';
import { seedCatalog } from '@adfunnel/catalog-seed';
import { TrackingEventEntity } from '@adfunnel/event-store';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import { DAY_MS } from '@adfunnel/pacing';
import { scaledClockSpec } from '@adfunnel/platform';
import { type MarketplaceSpec, Rng } from '@adfunnel/simulator';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { HttpFunnelClient } from './funnel-client.js';
import type { MarketplaceOracle } from './oracle/marketplace-oracle.js';
import type { RunSummary } from './run-stats.js';
import { type ScheduleLag, TrafficDriver } from './traffic-driver.js';

/** Wall time from starting the funnel to its clock's midnight at first; then 1.5x what a start took. */
const FIRST_START_MARGIN_MS = 20_000;
const MIN_START_MARGIN_MS = 6_000;
/** Under bid types `cpm`: every campaign buys impressions, bids log-normal around this CPM. */
export const CPM_MEDIAN_BID = 20;

export type DayBidTypes = 'seeded' | 'cpm';

/** What every run on a funnel of its own needs: where the apps are, the marketplace, the traffic. */
export interface OwnFunnelOptions {
  /** Repository root: the built apps are started from here. */
  root: string;
  spec: MarketplaceSpec;
  population: number;
  concurrency: number;
  slots: number;
  /** Mean organic engagements per visit (TrafficDriverOptions.organicPerVisit); 0: none. */
  organicPerVisit: number;
  seed: number;
  basePort: number;
  natsUrl: string;
  redisUrl: string;
  log: (line: string) => void;
  onProgress?: (phase: string, completed: number) => void;
}

export interface DayTraffic {
  readonly summary: RunSummary;
  readonly lag: ScheduleLag;
  readonly speed: number;
}

/** One simulated day of visits: `dayIndex` days after the run's first midnight, lasting `wallSeconds`. */
export interface DayOfVisits {
  readonly phase: string;
  readonly dayIndex: number;
  readonly requests: number;
  readonly wallSeconds: number;
  /** The traffic's seed; default the run's seed + dayIndex. */
  readonly seed?: number;
}

/**
 * The parts of a run on a funnel of its own (the built apps on a scaled clock, a temporary SQLite
 * catalog, their own bus namespace and Redis keys): seeding the catalog, starting the funnel so its
 * clock shows a midnight once it is up, driving a day of simulated visits through it, waiting for
 * logging to store every event sent, and removing its Redis keys.
 */
export class OwnFunnel {
  readonly runId: string;
  private readonly serviceLines: string[] = [];
  private readonly started = performance.now();
  private eventsSent = 0;
  private startMarginMs = FIRST_START_MARGIN_MS;

  constructor(
    private readonly o: OwnFunnelOptions,
    label: string,
  ) {
    this.runId = `${label}_${Date.now().toString(36)}_${process.pid}`;
  }

  /** Seeds the marketplace into `ds` (every advertiser billing in UTC) and issues every advertiser an API key. */
  async seed(ds: DataSource, bidTypes: DayBidTypes): Promise<Map<number, string>> {
    await assertPortsFree(this.o.basePort, 5);
    const seeded = await seedCatalog(ds, this.o.spec);
    await ds.query(`UPDATE advertisers SET timezone = 'UTC'`);
    if (bidTypes === 'cpm') await this.bidCpm(ds);
    this.step(
      `catalog seeded: ${seeded.tables.ads.expected} ads of ${this.o.spec.advertisers * this.o.spec.campaignsPerAdvertiser} campaigns ` +
        `(${bidTypes === 'cpm' ? `all CPM, median bid $${CPM_MEDIAN_BID}` : 'seeded bid types'}), every advertiser billing in UTC`,
    );
    const advertisers = await ds.getRepository(AdvertiserEntity).find({ select: { id: true } });
    const issued = await new AdvertiserApiKeyService(ds).issue(
      advertisers.map((a) => a.id),
      'simulated run',
    );
    return new Map(issued.map((k) => [k.advertiserId, k.key]));
  }

  /**
   * The funnel on a clock that shows `midnight` once it is up (a margin from now) and runs `speed`
   * times the wall; `env` adds to (or overrides) the isolated funnel's environment.
   */
  async start(
    sqlitePath: string,
    midnight: number,
    speed: number,
    env: Record<string, string>,
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
        CATALOG_REFRESH_MS: '0',
        ...env,
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

  /** Drives one simulated day of visits through the funnel, each leaving when the funnel's clock shows its time. */
  async drive(
    day: DayOfVisits,
    launcher: FunnelLauncher,
    midnightAt: number,
    oracle: MarketplaceOracle,
    apiKeys: ReadonlyMap<number, string>,
  ): Promise<DayTraffic> {
    const speed = DAY_MS / (day.wallSeconds * 1000);
    const startAt = day.dayIndex * 86_400;
    const { phase } = day;
    this.step(`${phase}: about ${day.requests} visits over ${day.wallSeconds.toFixed(0)} s of wall time`);
    const driver = new TrafficDriver(
      {
        spec: this.o.spec,
        seed: day.seed ?? this.o.seed + day.dayIndex,
        population: this.o.population,
        arrivalsPerDay: day.requests,
        startAt,
        endAt: startAt + 86_400,
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
        runId: `${this.runId}-${day.dayIndex}`,
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
  async waitForEvents(ds: DataSource): Promise<void> {
    const deadline = Date.now() + 120_000;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = await ds.getRepository(TrackingEventEntity).count();
      if (stored >= this.eventsSent) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    this.step(`events stored: ${stored} of ${this.eventsSent} sent`);
  }

  /** Deletes every Redis key of the run. */
  async cleanRedis(redis: Redis): Promise<void> {
    if (redis.status !== 'ready') await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.runId}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }

  /** `error` with the services' last lines of output appended. */
  withServiceOutput(error: unknown): Error {
    const tail = this.serviceLines.slice(-40).join('\n');
    return new Error(`${(error as Error).message}${tail ? `\n--- last service output ---\n${tail}` : ''}`, {
      cause: error,
    });
  }

  step(message: string): void {
    this.o.log(`[${this.elapsed().toFixed(0).padStart(4)} s] ${message}`);
  }

  elapsed(): number {
    return (performance.now() - this.started) / 1000;
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
