import {
  type DynamicModule,
  Global,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import type { DeliveryConfig } from './delivery-env.js';
import { DeliveryFlusher } from './delivery-flusher.js';
import { DeliveryReader } from './delivery-reader.js';
import { DeliveryTally } from './delivery-tally.js';

/** A flush or a read that has not answered by then fails; the counts wait for the next flush. */
const COMMAND_TIMEOUT_MS = 2_000;
/** While Redis fails, one warning per this long. */
const WARN_EVERY_MS = 60_000;

const DELIVERY_REDIS = Symbol('DELIVERY_REDIS');

/** Starts the service's flusher with the app and writes what is left when it stops. */
@Injectable()
class DeliveryFlushLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly flusher: DeliveryFlusher,
    private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    this.flusher.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flusher.stop();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * The delivery counts of one service (gateway, retrieval, auction, logging): a DeliveryTally its
 * stages count into, flushed to Redis every DELIVERY_FLUSH_MS over a connection of its own, and a
 * DeliveryReader over the same connection for the service that answers the diagnostics.
 */
@Global()
@Module({})
export class DeliveryDiagnosticsModule {
  static forService(service: string, config: DeliveryConfig & { readonly REDIS_URL: string }): DynamicModule {
    const logger = new Logger(`DeliveryDiagnostics`);
    let lastWarnAt = Number.NEGATIVE_INFINITY;
    const warn = (message: string) => {
      if (Date.now() - lastWarnAt < WARN_EVERY_MS) return;
      lastWarnAt = Date.now();
      logger.warn(`delivery counts not flushed, kept for the next flush: ${message}`);
    };
    return {
      module: DeliveryDiagnosticsModule,
      global: true,
      providers: [
        { provide: DeliveryTally, useValue: new DeliveryTally() },
        {
          provide: DELIVERY_REDIS,
          useFactory: () => {
            const redis = new Redis(config.REDIS_URL, {
              connectionName: `adfunnel-${service}-delivery`,
              commandTimeout: COMMAND_TIMEOUT_MS,
              enableOfflineQueue: false,
              maxRetriesPerRequest: 0,
            });
            redis.on('error', (error: Error) => warn(error.message));
            return redis;
          },
        },
        {
          provide: DeliveryFlusher,
          inject: [DeliveryTally, DELIVERY_REDIS],
          useFactory: (tally: DeliveryTally, redis: Redis) =>
            new DeliveryFlusher(tally, redis, {
              prefix: config.DELIVERY_KEY_PREFIX,
              flushMs: config.DELIVERY_FLUSH_MS,
              retentionMinutes: config.DELIVERY_RETENTION_MINUTES,
              onError: warn,
            }),
        },
        {
          provide: DeliveryReader,
          inject: [DELIVERY_REDIS],
          useFactory: (redis: Redis) => new DeliveryReader(redis, config.DELIVERY_KEY_PREFIX),
        },
        {
          provide: DeliveryFlushLifecycle,
          inject: [DeliveryFlusher, DELIVERY_REDIS],
          useFactory: (flusher: DeliveryFlusher, redis: Redis) => new DeliveryFlushLifecycle(flusher, redis),
        },
      ],
      exports: [DeliveryTally, DeliveryFlusher, DeliveryReader],
    };
  }
}
