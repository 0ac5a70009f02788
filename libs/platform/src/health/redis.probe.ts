import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG } from '../config/app-config.constants.js';
import { redactUrlUserinfo } from '../config/redact-url.js';
import { type HealthProbe, RegisterHealthProbe } from './health-probe.js';
import { type RedisPersistence, readRedisPersistence, redisCliFor } from './redis-persistence.js';

const PING_TIMEOUT_MS = 1000;

/** What /health says about Redis besides `status`. */
export interface RedisHealth {
  rttMs: number;
  persistence: RedisPersistence | 'unknown';
  evictionPolicy: string;
  /** Set when a Redis crash or eviction can lose queued jobs; Redis still counts as up. */
  warning?: string;
}

/**
 * Redis is up when PING answers within a second; the report adds whether it persists and may evict,
 * and the service warns at start-up when it does not or may. Reads REDIS_URL from the app config.
 */
@Injectable()
@RegisterHealthProbe()
export class RedisProbe implements HealthProbe, OnApplicationBootstrap, OnApplicationShutdown {
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

  /** Bounded by the client's timeouts, so an unreachable Redis delays the start by a second at most. */
  async onApplicationBootstrap(): Promise<void> {
    await this.warnUnlessDurable();
  }

  async check(): Promise<RedisHealth & Record<string, unknown>> {
    const client = this.connection();
    const started = performance.now();
    let reply: string;
    try {
      reply = await client.ping();
    } catch (err) {
      const reason = this.lastError ?? (err instanceof Error ? err.message : String(err));
      throw new Error(`cannot reach Redis at ${redactUrlUserinfo(this.redisUrl)}: ${reason}`, { cause: err });
    }
    if (reply !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(reply)}`);
    const rttMs = Math.round((performance.now() - started) * 100) / 100;
    try {
      const report = await readRedisPersistence(client);
      const warning = report.warnings.join('; ');
      return {
        rttMs,
        persistence: report.persistence,
        evictionPolicy: report.evictionPolicy,
        ...(warning === '' ? {} : { warning }),
      };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return {
        rttMs,
        persistence: 'unknown',
        evictionPolicy: 'unknown',
        warning: `cannot read Redis persistence: ${reason}`,
      };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.quit().catch(() => client.disconnect());
  }

  /** A dev Redis without AOF may serve the funnel, but not silently: what a crash loses is said once. */
  private async warnUnlessDurable(): Promise<void> {
    const at = redactUrlUserinfo(this.redisUrl);
    try {
      const report = await readRedisPersistence(this.connection(), redisCliFor(this.redisUrl));
      if (report.warnings.length === 0) {
        this.logger.log(
          `Redis at ${at} persists (${report.persistence}, maxmemory-policy ${report.evictionPolicy})`,
        );
        return;
      }
      this.logger.warn(
        `REDIS AT ${at} CAN LOSE QUEUED JOBS (${report.persistence}, maxmemory-policy ${report.evictionPolicy}). ` +
          `${report.warnings.join('. ')}. Fix: ${report.fixes.join(' ; ')}`,
      );
    } catch (err) {
      const reason = this.lastError ?? (err instanceof Error ? err.message : String(err));
      this.logger.warn(`cannot read the persistence of Redis at ${at}: ${reason}`);
    }
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
        this.logger.debug(`redis ${redactUrlUserinfo(this.redisUrl)}: ${err.message}`);
      });
      this.client.on('ready', () => {
        this.lastError = undefined;
      });
    }
    return this.client;
  }
}
