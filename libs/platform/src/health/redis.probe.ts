import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG } from '../config/app-config.constants.js';
import { type HealthProbe, RegisterHealthProbe } from './health-probe.js';

const PING_TIMEOUT_MS = 1000;

/** Redis is up when PING answers within a second. Reads REDIS_URL from the app config. */
@Injectable()
@RegisterHealthProbe()
export class RedisProbe implements HealthProbe, OnApplicationShutdown {
  readonly name = 'redis';
  private readonly logger = new Logger(RedisProbe.name);
  private readonly redisUrl: string;
  private client: Redis | undefined;
  private lastError: string | undefined;

  constructor(@Inject(APP_CONFIG) config: object) {
    const redisUrl: unknown = (config as Record<string, unknown>)['REDIS_URL'];
    if (typeof redisUrl !== 'string' || redisUrl.length === 0) {
      throw new Error('RedisProbe needs REDIS_URL in the app config (spread CommonEnv into the schema)');
    }
    this.redisUrl = redisUrl;
  }

  async check(): Promise<Record<string, unknown>> {
    const client = this.connection();
    const started = performance.now();
    let reply: string;
    try {
      reply = await client.ping();
    } catch (err) {
      const reason = this.lastError ?? (err instanceof Error ? err.message : String(err));
      throw new Error(`cannot reach Redis at ${redactUrl(this.redisUrl)}: ${reason}`, { cause: err });
    }
    if (reply !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(reply)}`);
    return { rttMs: Math.round((performance.now() - started) * 100) / 100 };
  }

  async onApplicationShutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.quit().catch(() => client.disconnect());
  }

  private connection(): Redis {
    if (!this.client) {
      this.client = new Redis(this.redisUrl, {
        lazyConnect: true,
        connectTimeout: PING_TIMEOUT_MS,
        commandTimeout: PING_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        connectionName: 'adfunnel-health',
      });
      // Without a listener ioredis reports every failed reconnect as an unhandled error event.
      this.client.on('error', (err: Error) => {
        this.lastError = err.message;
        this.logger.debug(`redis ${redactUrl(this.redisUrl)}: ${err.message}`);
      });
      this.client.on('ready', () => {
        this.lastError = undefined;
      });
    }
    return this.client;
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
