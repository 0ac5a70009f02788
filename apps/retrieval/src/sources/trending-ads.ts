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
 * request reads a list instead of waiting on Redis. A failed refresh keeps the previous lists (the
 * trending source then answers slightly stale ads, or none before the first success).
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
    try {
      const countries = [...this.countries];
      const lists = await Promise.all(countries.map((c) => reader.trendingAds(c, this.limit)));
      this.lists = new Map(countries.map((c, i) => [c, lists[i]]));
      if (this.failing) this.logger.log('trending ads refreshed again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.logger.warn(
          `trending ads refresh failed, keeping the previous lists: ${(error as Error).message}`,
        );
      }
      this.failing = true;
    }
  }
}
