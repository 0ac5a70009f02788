import type { AdRequest, UserActivity, UserContext } from '@adfunnel/contracts';
import { InjectConfig } from '@adfunnel/platform';
import { UserActivityStore, userActivityStoreOptions, userContextOf } from '@adfunnel/user-activity';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { GatewayConfig } from '../config.js';

interface CachedActivity {
  activity: UserActivity | null;
  /** performance.now() at which the entry stops being used. */
  expiresAt: number;
}

/** The user side of one request, and whether the activity state could be read for it. */
export interface UserLookup {
  user: UserContext;
  /** True when Redis did not answer: the request is served as a cold-start user. */
  activityUnavailable: boolean;
}

/**
 * The user side of a request, computed once and passed to every stage: country and device as the
 * request declares them, and what the funnel logged of the user (libs/user-activity, written by
 * logging) as `activity`, with `interests` the category affinity inferred from it. Never the
 * simulator's ground truth. One HGETALL per request, through a small LRU whose entries live at most
 * PROFILE_CACHE_TTL_MS (1 s by default), so a click shows in the next request within a second or so.
 * When Redis does not answer (within USER_ACTIVITY_REDIS_TIMEOUT_MS) the request serves as a
 * cold-start user and says so; it never fails for it.
 */
@Injectable()
export class UserProfileService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(UserProfileService.name);
  private readonly cache = new Map<string, CachedActivity>();
  private readonly redis: Redis;
  private readonly store: UserActivityStore;
  private unavailableSince: number | undefined;

  constructor(@InjectConfig() private readonly config: GatewayConfig) {
    // No offline queue: while Redis is away a read fails at once instead of waiting for a reconnect.
    this.redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.USER_ACTIVITY_REDIS_TIMEOUT_MS,
      connectionName: 'adfunnel-gateway-activity',
    });
    this.redis.on('error', (error: Error) => this.logger.debug(`user activity Redis: ${error.message}`));
    this.store = new UserActivityStore(this.redis, userActivityStoreOptions(config));
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (error) {
      // ioredis keeps reconnecting; until then every request serves as a cold-start user.
      this.logger.warn(`user activity Redis not reachable at start-up: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // A client still trying to connect has nothing to flush: stop its reconnects at once.
    if (this.redis.status !== 'ready') return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** `now` is the funnel's clock, which the activity's event times follow. */
  async userContext(request: AdRequest, now: number): Promise<UserLookup> {
    let activity: UserActivity | null;
    let activityUnavailable = false;
    try {
      activity = await this.activityOf(request.userId);
      if (this.unavailableSince !== undefined) {
        this.logger.log('user activity readable again; users are served from their activity');
        this.unavailableSince = undefined;
      }
    } catch (error) {
      activity = null;
      activityUnavailable = true;
      // One warning per outage, not one per request.
      if (this.unavailableSince === undefined) {
        this.unavailableSince = Date.now();
        this.logger.warn({
          msg: 'user activity not readable; serving users as cold-start until it is',
          error: (error as Error).message,
        });
      }
    }
    const user = userContextOf(request, activity, now, this.config.USER_ACTIVITY_HALF_LIFE_MS);
    return { user, activityUnavailable };
  }

  /** Drops the user's cached state: their next request reads it from Redis (after a write of it here). */
  forget(userId: string): void {
    this.cache.delete(userId);
  }

  private async activityOf(userId: string): Promise<UserActivity | null> {
    const wall = performance.now();
    const hit = this.cache.get(userId);
    if (hit && hit.expiresAt > wall) {
      this.cache.delete(userId);
      this.cache.set(userId, hit);
      return hit.activity;
    }
    if (this.redis.status !== 'ready') throw new Error(`not connected to Redis (${this.redis.status})`);
    const activity = await this.store.read(userId);
    if (this.config.PROFILE_CACHE_SIZE > 0 && this.config.PROFILE_CACHE_TTL_MS > 0) {
      this.cache.delete(userId);
      this.cache.set(userId, { activity, expiresAt: wall + this.config.PROFILE_CACHE_TTL_MS });
      if (this.cache.size > this.config.PROFILE_CACHE_SIZE) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
    }
    return activity;
  }
}
