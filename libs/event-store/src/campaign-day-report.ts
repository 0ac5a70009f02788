import { CampaignEntity } from '@adfunnel/catalog';
import { usdToMicros } from '@adfunnel/utility';
import type { DataSource } from 'typeorm';
import { CampaignDaySpendEntity } from './entities/campaign-day-spend.entity.js';
import { TrackingEventEntity } from './entities/tracking-event.entity.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const MAX_REPORT_DAYS = 92;

export interface CampaignDayReportQuery {
  /** First and last billing day, 'YYYY-MM-DD', inclusive. */
  from: string;
  to: string;
  advertiserId?: number;
  campaignId?: number;
}

/** One campaign's billing day, from the ledger's totals and the stored events. Amounts in micros. */
export interface CampaignDayReportRow {
  billingDay: string;
  campaignId: number;
  advertiserId: number;
  budgetMicros: number;
  spendMicros: number;
  overdeliveredMicros: number;
  impressions: number;
  clicks: number;
  conversions: number;
  /** Shown ads the user hid ("not interested"): negative feedback, never billed. */
  hides: number;
  /** Spend as a percentage of the day's budget (0 for a zero budget). */
  deliveryPct: number;
}

/** Thrown for a query that cannot be answered as asked; the message says what to change. */
export class ReportQueryError extends Error {
  override readonly name = 'ReportQueryError';
}

/**
 * Spend, budget, delivery and event counts per campaign per billing day. Spend comes from the
 * ledger's campaign-day totals (the charged amounts); a day with events but no charge shows the
 * campaign's current daily budget.
 */
export async function campaignDayReport(
  ds: DataSource,
  query: CampaignDayReportQuery,
): Promise<CampaignDayReportRow[]> {
  checkRange(query);
  const spends = ds
    .getRepository(CampaignDaySpendEntity)
    .createQueryBuilder('s')
    .where('s.billingDay BETWEEN :from AND :to', query);
  const events = ds
    .getRepository(TrackingEventEntity)
    .createQueryBuilder('e')
    .select('e.campaignId', 'campaignId')
    .addSelect('e.advertiserId', 'advertiserId')
    .addSelect('e.billingDay', 'billingDay')
    .addSelect('e.type', 'type')
    .addSelect('COUNT(*)', 'n')
    .where('e.billingDay BETWEEN :from AND :to', query)
    .groupBy('e.campaignId')
    .addGroupBy('e.advertiserId')
    .addGroupBy('e.billingDay')
    .addGroupBy('e.type');
  if (query.advertiserId !== undefined) {
    spends.andWhere('s.advertiserId = :advertiserId', query);
    events.andWhere('e.advertiserId = :advertiserId', query);
  }
  if (query.campaignId !== undefined) {
    spends.andWhere('s.campaignId = :campaignId', query);
    events.andWhere('e.campaignId = :campaignId', query);
  }

  const rows = new Map<string, CampaignDayReportRow>();
  const rowOf = (campaignId: number, advertiserId: number, billingDay: string) => {
    const key = `${billingDay}:${campaignId}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = {
        billingDay,
        campaignId,
        advertiserId,
        budgetMicros: -1,
        spendMicros: 0,
        overdeliveredMicros: 0,
        impressions: 0,
        clicks: 0,
        conversions: 0,
        hides: 0,
        deliveryPct: 0,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const spend of await spends.getMany()) {
    const row = rowOf(spend.campaignId, spend.advertiserId, spend.billingDay);
    row.budgetMicros = spend.budgetMicros;
    row.spendMicros = spend.chargedMicros;
    row.overdeliveredMicros = spend.overdeliveredMicros;
  }
  const counts = await events.getRawMany<{
    campaignId: number | string;
    advertiserId: number | string;
    billingDay: string;
    type: string;
    n: number | string;
  }>();
  for (const count of counts) {
    const row = rowOf(Number(count.campaignId), Number(count.advertiserId), count.billingDay);
    const n = Number(count.n);
    if (count.type === 'impression') row.impressions = n;
    else if (count.type === 'click') row.clicks = n;
    else if (count.type === 'conversion') row.conversions = n;
    else if (count.type === 'hide') row.hides = n;
  }

  const unbudgeted = [...rows.values()].filter((r) => r.budgetMicros < 0);
  if (unbudgeted.length > 0) {
    const ids = [...new Set(unbudgeted.map((r) => r.campaignId))];
    const campaigns = await ds
      .getRepository(CampaignEntity)
      .createQueryBuilder('c')
      .where('c.id IN (:...ids)', { ids })
      .getMany();
    const budgets = new Map(campaigns.map((c) => [c.id, usdToMicros(c.dailyBudget)]));
    for (const row of unbudgeted) row.budgetMicros = budgets.get(row.campaignId) ?? 0;
  }
  for (const row of rows.values()) {
    row.deliveryPct =
      row.budgetMicros > 0 ? Math.round((row.spendMicros / row.budgetMicros) * 10_000) / 100 : 0;
  }
  return [...rows.values()].sort(
    (a, b) => a.billingDay.localeCompare(b.billingDay) || a.campaignId - b.campaignId,
  );
}

function checkRange({ from, to }: CampaignDayReportQuery): void {
  for (const [name, day] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
      throw new ReportQueryError(`${name} must be a day as YYYY-MM-DD, got "${day}"`);
    }
  }
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (days < 1) throw new ReportQueryError(`from (${from}) must not be after to (${to})`);
  if (days > MAX_REPORT_DAYS) {
    throw new ReportQueryError(`a report covers at most ${MAX_REPORT_DAYS} days; ${from}..${to} is ${days}`);
  }
}
