import { CatalogReader, CatalogSnapshotService } from '@adfunnel/catalog';
import type { ServedRecord, TrackingEventJob } from '@adfunnel/contracts';
import { ServedAdEntity } from '@adfunnel/event-store';
import { InjectConfig } from '@adfunnel/platform';
import { UserActivityStore, userActivityStoreOptions } from '@adfunnel/user-activity';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import type { LoggingConfig } from '../config.js';

/**
 * Writes what the funnel logged into the users' activity state (libs/user-activity), which the gateway
 * turns into the user context of the next request: each tracking event the event store stored for the
 * first time (so a repeat counts nothing), filed under its ad's declared category; each click also in
 * its country's trending set; each served request's search query, once per request. Best effort: a
 * failure is logged, never fails the job (the event is stored; its activity is a serving hint).
 */
@Injectable()
export class ActivityRecorder implements OnApplicationShutdown {
  private readonly logger = new Logger(ActivityRecorder.name);
  private readonly redis: Redis;
  readonly store: UserActivityStore;

  constructor(
    @InjectConfig() config: LoggingConfig,
    private readonly snapshots: CatalogSnapshotService,
    private readonly reader: CatalogReader,
    private readonly dataSource: DataSource,
  ) {
    this.redis = new Redis(config.REDIS_URL, {
      connectionName: 'adfunnel-logging-activity',
      maxRetriesPerRequest: 2,
      lazyConnect: true,
      // The folds of a job's events (and of a served batch's queries) are issued in the same turn of
      // the event loop: one write to Redis for all of them instead of one each, in the same order.
      enableAutoPipelining: true,
    });
    this.redis.on('error', (error: Error) => this.logger.debug(`user activity Redis: ${error.message}`));
    this.store = new UserActivityStore(this.redis, userActivityStoreOptions(config));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** After the event store stored `event` for the first time. */
  async eventStored(event: TrackingEventJob): Promise<void> {
    try {
      const ad = this.snapshots.snapshot().byId.get(event.adId) ?? (await this.reader.findAd(event.adId));
      if (ad === null) {
        this.logger.warn(
          `${event.type} ${event.eventId}: ad ${event.adId} is not in the catalog; not in the user's activity`,
        );
        return;
      }
      await this.store.record(event.userId, {
        type: event.type,
        adId: event.adId,
        advertiserId: event.advertiserId,
        categoryIndex: ad.categoryIndex,
        at: event.occurredAt,
      });
      if (event.type === 'click') await this.bumpTrending(event);
    } catch (error) {
      this.logger.warn(
        `${event.type} ${event.eventId} of user ${event.userId}: not in the user's activity (${(error as Error).message})`,
      );
    }
  }

  /**
   * After the served records were stored: each request's query, once per request however often
   * delivered. All of them at once, so they go to Redis in one write (auto-pipelined, in order).
   */
  async served(records: readonly ServedRecord[]): Promise<void> {
    await Promise.all(
      records.map(async (record) => {
        if (record.query === undefined) return;
        try {
          await this.store.recordQuery(record.userId, record.requestId, record.query, record.servedAt);
        } catch (error) {
          this.logger.warn(
            `query of request ${record.requestId}: not in the activity of user ${record.userId} (${(error as Error).message})`,
          );
        }
      }),
    );
  }

  /**
   * Trending is per country of the request the click came from, which its served row holds; a click
   * whose row is not stored yet (the served job still queued) counts in the user's declared country.
   */
  private async bumpTrending(event: TrackingEventJob): Promise<void> {
    const served = await this.dataSource.getRepository(ServedAdEntity).findOne({
      select: { id: true, country: true },
      where: { id: `${event.requestId}:${event.slot}` },
    });
    const country = served?.country ?? (await this.reader.findUserProfile(event.userId))?.country;
    if (country === undefined) {
      this.logger.debug(`click ${event.eventId}: no country known for it; not counted as trending`);
      return;
    }
    await this.store.bumpTrending(country, event.adId, event.occurredAt);
  }
}
