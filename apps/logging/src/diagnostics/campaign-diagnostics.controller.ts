import type { CampaignDiagnostics } from '@adfunnel/contracts';
import { RateLimited } from '@adfunnel/platform';
import { Controller, Get, Header, Headers, Param, Query } from '@nestjs/common';
import { CampaignDiagnosticsService } from './campaign-diagnostics.service.js';

@Controller('v1/diagnostics')
export class CampaignDiagnosticsController {
  constructor(private readonly diagnostics: CampaignDiagnosticsService) {}

  /** `?minutes=` the window, 1 to DELIVERY_RETENTION_MINUTES (default 60). */
  @Get('campaigns/:campaignId')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  campaign(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId') campaignId: string,
    @Query() query: unknown,
  ): Promise<CampaignDiagnostics> {
    return this.diagnostics.campaign(authorization, campaignId, query);
  }
}
