import { type ActivityReport, type ActivityReportAnswer, AdfunnelError } from '@adfunnel/contracts';
import { TOPICS } from '@adfunnel/features';
import { Clock, InjectConfig } from '@adfunnel/platform';
import {
  type OrganicActivity,
  UserActivityStore,
  normalizeQuery,
  userActivityStoreOptions,
} from '@adfunnel/user-activity';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { UserProfileService } from '../ads/user-profile.service.js';
import type { GatewayConfig } from '../config.js';

/** How far past the funnel's clock an event's time may be (clients' clocks drift). */
export const MAX_EVENT_LEAD_MS = 5 * 60_000;

/**
 * What a product surface reports a user did on it, off the ads (`POST /v1/activity`): engagements
 * with its organic content and organic searches, folded into the user's activity state
 * (libs/user-activity recordOrganic) so that the next ad request sees the interests the user showed
 * on the product, not only their ad clicks. The answer comes once Redis has folded the report: an
 * answered report is in the state; one that Redis could not take is refused (503) whole, and the
 * surface may send it again (event ids make a retry count once).
 */
@Injectable()
export class OrganicActivityService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OrganicActivityService.name);
  private readonly redis: Redis;
  private readonly store: UserActivityStore;

  constructor(
    @InjectConfig() config: GatewayConfig,
    private readonly clock: Clock,
    private readonly profiles: UserProfileService,
  ) {
    // A write that cannot reach Redis fails fast (the surface retries); it never waits in a queue.
    this.redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.ACTIVITY_REDIS_TIMEOUT_MS,
      connectionName: 'adfunnel-gateway-organic-activity',
    });
    this.redis.on('error', (error: Error) => this.logger.debug(`organic activity Redis: ${error.message}`));
    this.store = new UserActivityStore(this.redis, userActivityStoreOptions(config));
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (error) {
      this.logger.warn(`organic activity Redis not reachable at start-up: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status !== 'ready') return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  async report(report: ActivityReport): Promise<ActivityReportAnswer> {
    const now = this.clock.now();
    const events = report.events.map((event, i) => resolveEvent(event, i, now));
    // Without an offline queue, a command on a connection that is not ready fails at once.
    let answer: ActivityReportAnswer;
    try {
      answer = await this.store.recordOrganic(report.userId, events);
    } catch (error) {
      throw new AdfunnelError(
        'unavailable',
        `user activity store did not take the report (${(error as Error).message}); nothing was folded, send the report again`,
      );
    }
    // The user's next ad request reads the new state, not a cached one.
    this.profiles.forget(report.userId);
    return answer;
  }
}

function resolveEvent(event: ActivityReport['events'][number], i: number, now: number): OrganicActivity {
  const at = event.at ?? now;
  if (at > now + MAX_EVENT_LEAD_MS) {
    throw new AdfunnelError(
      'invalid_request',
      `events[${i}].at ${new Date(at).toISOString()} is more than ${MAX_EVENT_LEAD_MS / 60_000} minutes after the funnel's clock (${new Date(now).toISOString()})`,
      'event_in_future',
    );
  }
  if (event.type === 'engagement') {
    const categoryIndex = (TOPICS as readonly string[]).indexOf(event.category);
    if (categoryIndex < 0) {
      throw new AdfunnelError(
        'invalid_request',
        `events[${i}].category "${event.category}" is not a category of the taxonomy; known: ${TOPICS.join(', ')}`,
        'unknown_category',
      );
    }
    return { id: event.id, type: 'engagement', categoryIndex, at };
  }
  const query = normalizeQuery(event.query);
  if (query === null) {
    throw new AdfunnelError(
      'invalid_request',
      `events[${i}].query is empty once white space is folded`,
      'empty_query',
    );
  }
  return { id: event.id, type: 'search', query, at };
}
