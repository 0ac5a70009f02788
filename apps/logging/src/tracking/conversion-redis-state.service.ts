import { InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { LoggingConfig } from '../config.js';
import type { ConversionRefusalReason } from './conversion-refusal.js';

/** Long enough to look back over a quarter; the counters are for operators, not for billing. */
const REJECTION_COUNTERS_TTL_S = 90 * 86_400;
/** A conversion's mark only has to outlive its trip through the queue; the event store remembers it after. */
const ACCEPTED_MARK_TTL_MS = 86_400_000;

/** The hash of one UTC day's refused conversions, reason -> count. */
export function conversionRejectionsKey(queuePrefix: string, at: number): string {
  return `${queuePrefix}:conversions:rejected:${new Date(at).toISOString().slice(0, 10)}`;
}

/**
 * The conversion API's state in Redis: refusals counted per UTC day and reason
 * (`<prefix>:conversions:rejected:<YYYY-MM-DD>`, a hash reason -> count), and a mark per accepted
 * conversion so a repeat is answered `duplicate: true` while the first is still queued.
 */
@Injectable()
export class ConversionRedisState implements OnApplicationShutdown {
  private readonly logger = new Logger(ConversionRedisState.name);
  private readonly redis: Redis;
  private readonly queuePrefix: string;

  constructor(@InjectConfig() config: LoggingConfig) {
    this.queuePrefix = config.LOGGING_QUEUE_PREFIX;
    this.redis = new Redis(config.REDIS_URL, {
      connectionName: 'adfunnel-logging-conversions',
      maxRetriesPerRequest: 2,
      lazyConnect: true,
    });
    this.redis.on('error', (error: Error) => this.logger.debug(`conversions Redis: ${error.message}`));
  }

  /** Never throws: a refusal is answered whether or not Redis could count it. */
  async countRejection(reason: ConversionRefusalReason, at = Date.now()): Promise<void> {
    const key = conversionRejectionsKey(this.queuePrefix, at);
    try {
      await this.redis.multi().hincrby(key, reason, 1).expire(key, REJECTION_COUNTERS_TTL_S).exec();
    } catch (error) {
      this.logger.warn(`conversion refusal ${reason} not counted: ${(error as Error).message}`);
    }
  }

  /** True the first time a conversion event id is marked. */
  async markAccepted(eventId: string): Promise<boolean> {
    const set = await this.redis.set(
      `${this.queuePrefix}:conversions:accepted:${eventId}`,
      '1',
      'PX',
      ACCEPTED_MARK_TTL_MS,
      'NX',
    );
    return set === 'OK';
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
