import { randomUUID } from 'node:crypto';
import {
  JobNames,
  Queues,
  type ShadowScoreJob,
  type ShadowScoreRecord,
  persistJobOptions,
} from '@adfunnel/contracts';
import { InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import Bull from 'bull';
import { Redis } from 'ioredis';
import type { RankingConfig } from '../config.js';

const MAX_RECORDS_PER_JOB = 100;

export interface ShadowLogCounts {
  /** Records added to logging's queue. */
  logged: number;
  /**
   * Records whose add was not confirmed (Redis down, or no answer within RANKING_SHADOW_LOG_TIMEOUT_MS);
   * each is also logged. A timed-out add may still land: rows are keyed, so none is stored twice.
   */
  failed: number;
  /** Records dropped because RANKING_SHADOW_MAX_BUFFERED were already waiting. */
  dropped: number;
  /** Records waiting for an add now. */
  buffered: number;
}

/**
 * The producer side of logging's `Queues.shadow`: records that arrive while an add is in flight go
 * out together in the next one. Nothing here is on the answer path, and nothing is retried: a record
 * that cannot be added is counted and logged, never waited for. The Redis connection opens when a
 * shadow starts (`connect`), so a ranking that never runs a shadow never needs Redis.
 */
@Injectable()
export class ShadowLogPublisher implements OnApplicationShutdown {
  private readonly logger = new Logger(ShadowLogPublisher.name);
  private queue: Bull.Queue<ShadowScoreJob> | undefined;
  private waiting: ShadowScoreRecord[] = [];
  private adding: Promise<void> | undefined;
  private readonly counts = { logged: 0, failed: 0, dropped: 0 };

  constructor(@InjectConfig() private readonly config: RankingConfig) {}

  /** Opens the connection (once); rejects, naming Redis, when it cannot, so a shadow is not started blind. */
  async connect(): Promise<void> {
    const redis = this.queueOf().client;
    try {
      if (redis.status === 'wait') await redis.connect();
      else if (redis.status !== 'ready') await readyWithin(redis, this.config.RANKING_SHADOW_LOG_TIMEOUT_MS);
    } catch (err) {
      throw new Error(`Redis is not reachable for the shadow log (${(err as Error).message})`, {
        cause: err,
      });
    }
  }

  publish(record: ShadowScoreRecord): void {
    if (this.waiting.length >= this.config.RANKING_SHADOW_MAX_BUFFERED) {
      this.counts.dropped += 1;
      if (this.counts.dropped % 1000 === 1) {
        this.logger.warn(
          `shadow log: ${this.waiting.length} records already wait for Redis; dropped ${this.counts.dropped} so far`,
        );
      }
      return;
    }
    this.waiting.push(record);
    this.adding ??= this.drain();
  }

  stats(): ShadowLogCounts {
    return { ...this.counts, buffered: this.waiting.length };
  }

  /** Resolves once every record published so far has been added (or counted as failed). */
  async flush(): Promise<void> {
    while (this.adding) await this.adding;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    const queue = this.queue;
    this.queue = undefined;
    if (!queue) return;
    await queue.close().catch(() => undefined);
    await queue.client.quit().catch(() => queue.client.disconnect());
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const records = this.waiting.splice(0, MAX_RECORDS_PER_JOB);
        try {
          await this.queueOf().add(JobNames.persistShadow, { records }, persistJobOptions(randomUUID()));
          this.counts.logged += records.length;
        } catch (err) {
          this.counts.failed += records.length;
          this.logger.warn(
            `shadow log: ${records.length} records (first ${records[0]?.requestId}) not added to Redis: ` +
              `${(err as Error).message}; ${this.counts.failed} failed so far`,
          );
        }
      }
    } finally {
      this.adding = undefined;
    }
  }

  private queueOf(): Bull.Queue<ShadowScoreJob> {
    if (this.queue) return this.queue;
    const redis = new Redis(this.config.REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: this.config.RANKING_SHADOW_LOG_TIMEOUT_MS,
      connectionName: 'adfunnel-ranking-shadow',
    });
    redis.on('error', (err: Error) => this.logger.debug(`redis: ${err.message}`));
    this.queue = new Bull<ShadowScoreJob>(Queues.shadow, {
      prefix: this.config.LOGGING_QUEUE_PREFIX,
      createClient: (type) => {
        if (type === 'client') return redis;
        throw new Error(`ranking only adds shadow jobs; bull asked for a ${type} connection`);
      },
    });
    return this.queue;
  }
}

function readyWithin(redis: Redis, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', ready);
      reject(new Error(`not ready within ${ms} ms, status ${redis.status}`));
    }, ms);
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', ready);
  });
}
