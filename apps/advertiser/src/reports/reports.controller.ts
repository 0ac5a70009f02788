import { type CampaignReport, campaignReport } from '@adfunnel/event-store';
import { RateLimited } from '@adfunnel/platform';
import { Controller, Get, Header, Headers, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AdvertiserAccess } from '../access/advertiser-access.service.js';

/** The ledger's campaign reports, the same query and answer as logging's GET /v1/reports/campaigns. */
@Controller('v1/reports')
export class ReportsController {
  constructor(
    private readonly access: AdvertiserAccess,
    private readonly dataSource: DataSource,
  ) {}

  @Get('campaigns')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async campaigns(
    @Headers('authorization') authorization: unknown,
    @Query() query: unknown,
  ): Promise<CampaignReport> {
    return campaignReport(this.dataSource, await this.access.scopeOf(authorization), query);
  }
}
