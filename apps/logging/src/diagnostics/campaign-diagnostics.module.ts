import { AdvertiserApiKeyService, AdvertiserAuthenticator } from '@adfunnel/catalog';
import { DeliveryDiagnosticsModule } from '@adfunnel/delivery-diagnostics';
import { type DynamicModule, Module } from '@nestjs/common';
import type { LoggingConfig } from '../config.js';
import { ReportAccess } from '../reports/report-access.service.js';
import { CampaignDiagnosticsController } from './campaign-diagnostics.controller.js';
import { CampaignDiagnosticsService } from './campaign-diagnostics.service.js';

/**
 * The delivery diagnostics endpoint (GET /v1/diagnostics/campaigns/:campaignId) and the delivery
 * counts' Redis connection it reads them over; CampaignDiagnosticsService is exported for other
 * readers of the same answer (the dashboard).
 */
@Module({})
export class CampaignDiagnosticsModule {
  static forRoot(config: LoggingConfig): DynamicModule {
    return {
      module: CampaignDiagnosticsModule,
      imports: [DeliveryDiagnosticsModule.forService('logging', config)],
      controllers: [CampaignDiagnosticsController],
      providers: [AdvertiserApiKeyService, AdvertiserAuthenticator, ReportAccess, CampaignDiagnosticsService],
      exports: [CampaignDiagnosticsService],
    };
  }
}
