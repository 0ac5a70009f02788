import { COUNTRIES } from '@adfunnel/contracts';
import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

export interface TrendingAd {
  readonly adId: number;
  /** Decayed recent engagement (clicks) in the country; higher is hotter. */
  readonly score: number;
}

/** Where trending ads come from: the per-country engagement the logging side keeps (libs/user-activity). */
export interface TrendingReader {
  trendingAds(country: string, limit: number): Promise<readonly TrendingAd[]>;
}

/** Countries refreshed besides the marketplace's own: ones requests named, at most this many. */
const MAX_EXTRA_COUNTRIES = 64;

/**
 * Trending ads per country held in memory and refreshed every `refreshMs` off the request path, so a
 * request reads a list instead of waiting on Redis. A country whose read fails keeps its previous
 * list (the trending source then answers slightly stale ads there, or none before its first success)
 * while the countries read take their new ones.
 */
export class TrendingAds implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TrendingAds.name);
  private lists = new Map<string, readonly TrendingAd[]>();
  private readonly countries = new Set<string>(COUNTRIES);
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly reader: TrendingReader | null,
    private readonly limit: number,
    private readonly refreshMs: number,
  ) {}

  /** The first load is awaited (bounded by the reader's own timeout), so requests start with lists. */
  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }

  start(): Promise<void> {
    if (this.reader === null) return Promise.resolve();
    this.timer ??= setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
    return this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The country's trending ads, hottest first; a country not seen before is refreshed from now on. */
  top(country: string): readonly TrendingAd[] {
    if (!this.countries.has(country) && this.countries.size < COUNTRIES.length + MAX_EXTRA_COUNTRIES) {
      this.countries.add(country);
    }
    return this.lists.get(country) ?? [];
  }

  /** Reloads every country's list; concurrent calls share one reload. Never rejects. */
  refresh(): Promise<void> {
    this.refreshing ??= this.reload().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async reload(): Promise<void> {
    const reader = this.reader;
    if (reader === null) return;
    const countries = [...this.countries];
    const reads = await Promise.allSettled(
      countries.map(async (country) => reader.trendingAds(country, this.limit)),
    );
    const lists = new Map(this.lists);
    const failed: string[] = [];
    let error: unknown;
    reads.forEach((read, i) => {
      if (read.status === 'fulfilled') {
        lists.set(countries[i], read.value);
      } else {
        failed.push(countries[i]);
        error ??= read.reason;
      }
    });
    this.lists = lists;
    this.report(failed, countries.length, error);
  }

  /**
   * One line per refresh whatever the number of countries that failed: a warning when failures
   * start, the same at debug while they go on (a refresh runs every few seconds), and a log when
   * every country reads again.
   */
  private report(failed: readonly string[], countries: number, error: unknown): void {
    if (failed.length === 0) {
      if (this.failing) this.logger.log(`trending ads refreshed again, all ${countries} countries`);
      this.failing = false;
      return;
    }
    const shown = failed.slice(0, 5).join(', ') + (failed.length > 5 ? ', ...' : '');
    const message =
      `trending ads refresh: ${failed.length} of ${countries} countries failed (${shown}), ` +
      `keeping their previous lists: ${error instanceof Error ? error.message : String(error)}`;
    if (this.failing) this.logger.debug(message);
    else this.logger.warn(message);
    this.failing = true;
  }
}
