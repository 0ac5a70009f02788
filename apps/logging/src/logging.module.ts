import { CatalogModule } from '@adfunnel/catalog';
import {
  AppConfigModule,
  BusModule,
  DatabaseProbe,
  HealthModule,
  NatsProbe,
  RedisProbe,
} from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import type { LoggingConfig } from './config.js';
import { EventStoreService } from './event-store/event-store.service.js';
import { EventsProcessor } from './event-store/events.processor.js';
import { EventsService } from './tracking/events.service.js';
import { LandingPageService } from './tracking/landing-page.service.js';
import { LoggingQueuesModule } from './queues/logging-queues.module.js';
import { QueueDepthProbe } from './queues/queue-depth.probe.js';
import { ServedController } from './served/served.controller.js';
import { ServedProcessor } from './served/served.processor.js';
import { TrackingController } from './tracking/tracking.controller.js';

/** The logging service: tracking endpoints, the served-record bus handler, queues and their workers. */
@Module({})
export class LoggingModule {
  static forRoot(config: LoggingConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        AppConfigModule.forRoot(config),
        BusModule.forRoot({
          natsUrl: config.NATS_URL,
          timeoutMs: config.BUS_TIMEOUT_MS,
          name: 'logging',
          namespace: config.BUS_NAMESPACE,
        }),
        CatalogModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          sqlitePath: config.SQLITE_PATH,
          catalogRefreshMs: config.CATALOG_REFRESH_MS,
          // Impressions and served records are accepted before any ad exists; a click needs its ad.
          requireAds: false,
        }),
        LoggingQueuesModule.forRoot({ redisUrl: config.REDIS_URL, prefix: config.LOGGING_QUEUE_PREFIX }),
        HealthModule.forRoot({ probes: [NatsProbe, RedisProbe, DatabaseProbe, QueueDepthProbe] }),
      ],
      controllers: [TrackingController, ServedController],
      providers: [EventsService, LandingPageService, EventStoreService, EventsProcessor, ServedProcessor],
    };
  }
}
