import { AdvertiserAuthenticator } from '@adfunnel/catalog';
import { type CampaignReport, campaignReport } from '@adfunnel/event-store';
import { AdminTokens, InjectConfig } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LoggingConfig } from '../config.js';

export type { CampaignReport } from '@adfunnel/event-store';

/**
 * Delivery reports from the ledger: an advertiser (its API key) sees its own campaigns; an operator
 * with ADMIN_TOKEN (or REPORTS_ADMIN_TOKEN, its older name) sees every advertiser's.
 */
@Injectable()
export class ReportsService {
  private readonly operatorTokens: AdminTokens;

  constructor(
    private readonly dataSource: DataSource,
    private readonly auth: AdvertiserAuthenticator,
    @InjectConfig() config: LoggingConfig,
  ) {
    this.operatorTokens = new AdminTokens([config.ADMIN_TOKEN, config.REPORTS_ADMIN_TOKEN]);
  }

  async campaigns(authorization: unknown, rawQuery: unknown): Promise<CampaignReport> {
    const scope = await this.auth.scopeOf(authorization, this.operatorTokens);
    return campaignReport(this.dataSource, scope, rawQuery);
  }
}
