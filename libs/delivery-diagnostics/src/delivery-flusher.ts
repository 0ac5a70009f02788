import type { Redis } from 'ioredis';
import { AD_COUNTS, CAMPAIGN_COUNTS, TOTAL_COUNTS } from './delivery-counts.js';
import { BUCKET_MS, DeliveryKeys, adField, minuteOf } from './delivery-keys.js';
import { type DeliveryTally, type DrainedCounts, isEmpty } from './delivery-tally.js';

export interface DeliveryFlusherOptions {
  readonly prefix: string;
  readonly flushMs: number;
  /** A minute's hashes expire this long after its last write (plus two minutes of slack). */
  readonly retentionMinutes: number;
  /** A failed flush; its counts are kept and go out with the next one. */
  readonly onError?: (message: string) => void;
  /** Wall clock; the tests set it. */
  readonly now?: () => number;
}

/**
 * Writes a tally to Redis every `flushMs` and at each minute boundary, so that a flush's counts all
 * fall in the minute they were counted in: one pipeline of HINCRBY per counted field and EXPIRE per
 * key, never a write per request. A flush that fails keeps its counts for the next one (in a later
 * minute); one whose replies were lost after Redis applied it may count twice, which a diagnostic
 * can bear and a ledger could not.
 */
export class DeliveryFlusher {
  private readonly keys: DeliveryKeys;
  private readonly ttlSeconds: number;
  private readonly now: () => number;
  private since: number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly tally: DeliveryTally,
    private readonly redis: Redis,
    private readonly options: DeliveryFlusherOptions,
  ) {
    this.keys = new DeliveryKeys(options.prefix);
    this.ttlSeconds = options.retentionMinutes * 60 + 120;
    this.now = options.now ?? Date.now;
    this.since = this.now();
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
    await this.flush().catch(() => undefined);
  }

  /**
   * Writes the counts since the last flush into the minute that flush happened in; resolves with the
   * number of fields written. Concurrent calls share one flush.
   */
  flush(): Promise<number> {
    this.inFlight ??= this.write().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async write(): Promise<number> {
    const minute = minuteOf(this.since);
    this.since = this.now();
    const drained = this.tally.drain();
    if (isEmpty(drained)) return 0;
    const pipeline = this.redis.pipeline();
    const fields = this.commands(pipeline, minute, drained);
    try {
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error !== null);
      if (failed !== undefined) throw failed[0] as Error;
      return fields;
    } catch (error) {
      this.tally.restore(drained);
      throw error;
    }
  }

  private commands(pipeline: ReturnType<Redis['pipeline']>, minute: number, drained: DrainedCounts): number {
    let fields = 0;
    const totalsKey = this.keys.totals(minute);
    for (let i = 0; i < TOTAL_COUNTS.length; i++) {
      if (drained.totals[i] === 0) continue;
      pipeline.hincrby(totalsKey, TOTAL_COUNTS[i], Math.round(drained.totals[i]));
      fields++;
    }
    if (fields > 0) pipeline.expire(totalsKey, this.ttlSeconds);
    for (const campaign of drained.campaigns) {
      const key = this.keys.campaign(minute, campaign.campaignId);
      if (campaign.counts !== null) {
        for (let i = 0; i < CAMPAIGN_COUNTS.length; i++) {
          if (campaign.counts[i] === 0) continue;
          pipeline.hincrby(key, CAMPAIGN_COUNTS[i], Math.round(campaign.counts[i]));
          fields++;
        }
      }
      for (const ad of campaign.ads) {
        for (let i = 0; i < AD_COUNTS.length; i++) {
          if (ad.counts[i] === 0) continue;
          pipeline.hincrby(key, adField(ad.adId, AD_COUNTS[i]), Math.round(ad.counts[i]));
          fields++;
        }
      }
      pipeline.expire(key, this.ttlSeconds);
    }
    return fields;
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.now();
    // A flush at the start of every minute keeps each flush's counts inside one minute.
    const toNextMinute = BUCKET_MS - (now % BUCKET_MS) + 1;
    this.timer = setTimeout(
      () => {
        this.flush()
          .catch((error: unknown) =>
            this.options.onError?.(error instanceof Error ? error.message : String(error)),
          )
          .finally(() => this.schedule());
      },
      Math.min(this.options.flushMs, toNextMinute),
    );
    this.timer.unref();
  }
}
