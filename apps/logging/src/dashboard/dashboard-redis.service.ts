import { PacingStore } from '@adfunnel/budget';
import { InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { LoggingConfig } from '../config.js';

/** A dashboard read that has not answered by then fails; the panel says so. */
const COMMAND_TIMEOUT_MS = 2_000;

/** The dashboard's reads of Redis (pacing rates and the traffic they follow) over a connection of its own. */
@Injectable()
export class DashboardRedis implements OnApplicationShutdown {
  private readonly logger = new Logger(DashboardRedis.name);
  private readonly redis: Redis;
  readonly pacing: PacingStore;

  constructor(@InjectConfig() config: LoggingConfig) {
    this.redis = new Redis(config.REDIS_URL, {
      connectionName: 'adfunnel-logging-dashboard',
      commandTimeout: COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    this.redis.on('error', (error: Error) => this.logger.debug(`dashboard Redis: ${error.message}`));
    this.pacing = new PacingStore(this.redis, config.BUDGET_KEY_PREFIX);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
