import { CampaignEntity } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';
import { formatZodError } from '@adfunnel/platform';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { type CampaignDayReportRow, ReportQueryError, campaignDayReport } from './campaign-day-report.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const CampaignReportQuerySchema = z.strictObject({
  from: z.string().min(1, { error: 'from is required (a billing day as YYYY-MM-DD)' }),
  to: z.string().min(1).optional(),
  advertiserId: id.optional(),
  campaignId: id
    .optional()
    .describe("One campaign only; another advertiser's, or one that does not exist, is 404"),
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
 * A campaign report as an HTTP query asks for it (`from`, `to`, `advertiserId`, `campaignId`), for
 * `scope`: one advertiser (its API key), who may name no other (403), or an operator ('all'), who
 * may name any. Bad queries are invalid_request naming the field. A `campaignId` the caller cannot
 * read (another advertiser's, or none at all) is not_found, word for word as reading that campaign
 * answers: an empty report would let a key probe other advertisers' ids and would hide a typo.
 * Logging's and the advertiser API's report endpoints both answer with it.
 */
export async function campaignReport(
  ds: DataSource,
  scope: number | 'all',
  rawQuery: unknown,
): Promise<CampaignReport> {
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
  if (query.campaignId !== undefined) await refuseUnknownCampaign(ds, query.campaignId, advertiserId);
  const to = query.to ?? query.from;
  try {
    const campaigns = await campaignDayReport(ds, {
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

/**
 * not_found unless the campaign exists within `advertiserId` (the key's own, or the one an operator
 * named; undefined: any), checked in the catalog before the ledger is read.
 */
async function refuseUnknownCampaign(
  ds: DataSource,
  campaignId: number,
  advertiserId: number | undefined,
): Promise<void> {
  const exists = await ds
    .getRepository(CampaignEntity)
    .existsBy(advertiserId === undefined ? { id: campaignId } : { id: campaignId, advertiserId });
  if (!exists) throw new AdfunnelError('not_found', `campaign ${campaignId} not found`);
}
