import { type CampaignReport, campaignReport } from '@adfunnel/event-store';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ReportAccess } from './report-access.service.js';

export type { CampaignReport } from '@adfunnel/event-store';

/**
 * Delivery reports from the ledger: an advertiser (its API key) sees its own campaigns; an operator
 * with ADMIN_TOKEN (or REPORTS_ADMIN_TOKEN, its older name) sees every advertiser's.
 */
@Injectable()
export class ReportsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: ReportAccess,
  ) {}

  async campaigns(authorization: unknown, rawQuery: unknown): Promise<CampaignReport> {
    const scope = await this.access.scopeOf(authorization);
    return campaignReport(this.dataSource, scope, rawQuery);
  }
}
