import { AdvertiserAuthenticator, bearerToken } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';
import { type CampaignDayReportRow, ReportQueryError, campaignDayReport } from '@adfunnel/event-store';
import { AdminTokens, InjectConfig, formatZodError } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import type { LoggingConfig } from '../config.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const CampaignReportQuerySchema = z.strictObject({
  from: z.string().min(1, { error: 'from is required (a billing day as YYYY-MM-DD)' }),
  to: z.string().min(1).optional(),
  advertiserId: id.optional(),
  campaignId: id.optional(),
});

export interface CampaignReport {
  from: string;
  to: string;
  /** The advertiser the report is limited to; null for an operator's report over all of them. */
  advertiserId: number | null;
  /** Amounts in integer micro-USD. */
  campaigns: CampaignDayReportRow[];
}

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
    const scope = await this.scopeOf(authorization);
    const parsed = CampaignReportQuerySchema.safeParse(rawQuery);
    if (!parsed.success) throw new AdfunnelError('invalid_request', formatZodError(parsed.error));
    const query = parsed.data;
    if (scope !== 'all' && query.advertiserId !== undefined && query.advertiserId !== scope) {
      throw new AdfunnelError(
        'forbidden',
        `this API key belongs to advertiser ${scope}; it can read only that advertiser's campaigns`,
      );
    }
    const advertiserId = scope === 'all' ? query.advertiserId : scope;
    const to = query.to ?? query.from;
    try {
      const campaigns = await campaignDayReport(this.dataSource, {
        from: query.from,
        to,
        ...(advertiserId === undefined ? {} : { advertiserId }),
        ...(query.campaignId === undefined ? {} : { campaignId: query.campaignId }),
      });
      return { from: query.from, to, advertiserId: advertiserId ?? null, campaigns };
    } catch (error) {
      if (error instanceof ReportQueryError) throw new AdfunnelError('invalid_request', error.message);
      throw error;
    }
  }

  private async scopeOf(authorization: unknown): Promise<number | 'all'> {
    if (this.operatorTokens.configured && this.operatorTokens.accepts(bearerToken(authorization))) {
      return 'all';
    }
    return this.auth.advertiserOf(authorization);
  }
}
