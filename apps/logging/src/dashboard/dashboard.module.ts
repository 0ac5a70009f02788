import { AdvertiserApiKeyService, AdvertiserAuthenticator } from '@adfunnel/catalog';
import { Module } from '@nestjs/common';
import { CalibrationReportService } from '../reports/calibration-report.service.js';
import { ReportAccess } from '../reports/report-access.service.js';
import { DashboardAccess } from './dashboard-access.service.js';
import { DashboardPageController } from './dashboard-page.controller.js';
import { DashboardRedis } from './dashboard-redis.service.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardService } from './dashboard.service.js';
import { MetricsScraper } from './metrics-scraper.service.js';

/** The dashboard: its page at /dashboard and its data under /v1/dashboard. */
@Module({
  controllers: [DashboardPageController, DashboardController],
  providers: [
    AdvertiserApiKeyService,
    AdvertiserAuthenticator,
    CalibrationReportService,
    DashboardAccess,
    DashboardRedis,
    DashboardService,
    MetricsScraper,
    ReportAccess,
  ],
})
export class DashboardModule {}
