import { RateLimited } from '@adfunnel/platform';
import { Controller, Get, Header, Headers, Query } from '@nestjs/common';
import { type CampaignReport, ReportsService } from './reports.service.js';

@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('campaigns')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  campaigns(
    @Headers('authorization') authorization: unknown,
    @Query() query: unknown,
  ): Promise<CampaignReport> {
    return this.reports.campaigns(authorization, query);
  }
}
