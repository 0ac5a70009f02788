import { AdvertiserApiKeyService, AdvertiserAuthenticator, CatalogModule } from '@adfunnel/catalog';
import { EVENT_STORE_ENTITIES } from '@adfunnel/event-store';
import { serviceModule } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { ActivityRecorder } from './activity/activity-recorder.service.js';
import type { LoggingConfig } from './config.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { CampaignDiagnosticsModule } from './diagnostics/campaign-diagnostics.module.js';
import { ExperimentsReportModule } from './experiments/experiments-report.module.js';
import {
  BillingContexts,
  EventStoreStartupCheck,
  eventStoreProvider,
} from './event-store/event-store.providers.js';
import { BillingMetrics } from './event-store/billing-metrics.js';
import { EventsProcessor } from './event-store/events.processor.js';
import { SpendPublisher } from './event-store/spend-publisher.service.js';
import { CalibrationReportController } from './reports/calibration-report.controller.js';
import { CalibrationReportService } from './reports/calibration-report.service.js';
import { ReportsController } from './reports/reports.controller.js';
import { ReportAccess } from './reports/report-access.service.js';
import { ReportsService } from './reports/reports.service.js';
import { LoggingQueuesModule } from './queues/logging-queues.module.js';
import { ServedProcessor } from './served/served.processor.js';
import { ShadowReportController } from './reports/shadow-report.controller.js';
import { ShadowProcessor } from './shadow/shadow.processor.js';
import { ClickLookup } from './tracking/click-lookup.js';
import { ConversionRedisState } from './tracking/conversion-redis-state.service.js';
import { ConversionsController } from './tracking/conversions.controller.js';
import { ConversionsService } from './tracking/conversions.service.js';
import { EventsClickLookup } from './tracking/events-click-lookup.service.js';
import { EventsService } from './tracking/events.service.js';
import { LandingPageService } from './tracking/landing-page.service.js';
import { TrackingController } from './tracking/tracking.controller.js';
import { TrackingMetrics } from './tracking/tracking-metrics.js';

@Module({})
export class LoggingModule {
  static forRoot(config: LoggingConfig): DynamicModule {
    return serviceModule(LoggingModule, {
      name: 'logging',
      config,
      imports: [
        // Impressions and served records are stored before any ad exists; a click needs its ad.
        CatalogModule.forService(config, { requireAds: false, entities: EVENT_STORE_ENTITIES }),
        LoggingQueuesModule.forRoot({
          redisUrl: config.REDIS_URL,
          prefix: config.LOGGING_QUEUE_PREFIX,
          stalledMs: config.LOGGING_STALLED_MS,
        }),
        DashboardModule,
        CampaignDiagnosticsModule.forRoot(config),
        ExperimentsReportModule,
      ],
      controllers: [
        TrackingController,
        ConversionsController,
        ReportsController,
        CalibrationReportController,
        ShadowReportController,
      ],
      providers: [
        EventsService,
        TrackingMetrics,
        BillingMetrics,
        LandingPageService,
        AdvertiserApiKeyService,
        AdvertiserAuthenticator,
        ReportAccess,
        ReportsService,
        CalibrationReportService,
        { provide: ClickLookup, useClass: EventsClickLookup },
        ConversionRedisState,
        ConversionsService,
        eventStoreProvider,
        EventStoreStartupCheck,
        BillingContexts,
        SpendPublisher,
        ActivityRecorder,
        EventsProcessor,
        ServedProcessor,
        ShadowProcessor,
      ],
    });
  }
}
