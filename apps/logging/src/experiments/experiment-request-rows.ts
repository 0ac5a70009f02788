import { LedgerEntryEntity, ServedAdEntity, TrackingEventEntity } from '@adfunnel/event-store';
import type { ExperimentRequestRow } from '@adfunnel/experiments';
import type { DataSource, SelectQueryBuilder } from 'typeorm';

export interface ExperimentRowsWindow {
  /** Served at or after this (epoch ms, the funnel's clock). */
  since: number;
  /** Served before this. */
  until: number;
  /** At most this many requests, the most recent first. */
  limit: number;
  /** Only requests whose id starts so (a traffic run's own, e.g. `sim-<run>-`). */
  requestIdPrefix?: string;
  /**
   * false: every served request, labelled or not (a pre-period, whose requests may predate the
   * experiments; an unlabelled one's label is ``). Default true: only those with experiment_arms.
   */
  labelledOnly?: boolean;
}

/**
 * One row per served request of the window that carries an experiment label (served_ads rows with
 * experiment_arms), with its events (tracking_events on the same request and slot) and what the ledger
 * charged for them (ledger_entries by event id). Three grouped queries, joined here by request id.
 */
export async function experimentRequestRows(
  ds: DataSource,
  { since, until, limit, requestIdPrefix, labelledOnly = true }: ExperimentRowsWindow,
): Promise<{ rows: ExperimentRequestRow[]; truncated: boolean }> {
  const prefix =
    requestIdPrefix === undefined ? undefined : `${requestIdPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const served = <T extends object>(query: SelectQueryBuilder<T>, alias: string) => {
    if (labelledOnly) query.andWhere(`${alias}.experimentArms IS NOT NULL`);
    query.andWhere(`${alias}.servedAt >= :since AND ${alias}.servedAt < :until`, { since, until });
    if (prefix !== undefined) query.andWhere(`${alias}.requestId LIKE :prefix ESCAPE '\\'`, { prefix });
    return query;
  };

  const requests = await served(
    ds
      .getRepository(ServedAdEntity)
      .createQueryBuilder('s')
      .select('s.requestId', 'requestId')
      .addSelect('MIN(s.userId)', 'userId')
      .addSelect('MIN(s.experimentArms)', 'label')
      .addSelect('COUNT(*)', 'ads')
      .addSelect('MIN(s.servedAt)', 'servedAt')
      .where('1 = 1'),
    's',
  )
    .groupBy('s.requestId')
    .orderBy('"servedAt"', 'DESC')
    .limit(limit + 1)
    .getRawMany<{
      requestId: string;
      userId: string;
      label: string | null;
      ads: unknown;
      servedAt: unknown;
    }>();
  const truncated = requests.length > limit;
  if (truncated) requests.length = limit;
  if (requests.length === 0) return { rows: [], truncated };

  // The advertiser's value of an outcome at its bid: the CPM impression bid / 1000, the CPC click,
  // the CPA conversion (the bid is per unit of the bid type).
  const events = await served(
    ds
      .getRepository(TrackingEventEntity)
      .createQueryBuilder('e')
      .innerJoin(ServedAdEntity, 's', 's.requestId = e.requestId AND s.slot = e.slot')
      .select('e.requestId', 'requestId')
      .addSelect('e.type', 'type')
      .addSelect('COUNT(*)', 'n')
      .addSelect(
        `SUM(CASE WHEN (s.bidType = 'CPM' AND e.type = 'impression') THEN s.bid / 1000.0
                  WHEN (s.bidType = 'CPC' AND e.type = 'click') OR (s.bidType = 'CPA' AND e.type = 'conversion')
                  THEN s.bid ELSE 0 END)`,
        'value',
      )
      .where('e.servedAt >= :since AND e.servedAt < :until', { since, until }),
    's',
  )
    .groupBy('e.requestId')
    .addGroupBy('e.type')
    .getRawMany<{ requestId: string; type: string; n: unknown; value: unknown }>();

  const charges = await served(
    ds
      .getRepository(LedgerEntryEntity)
      .createQueryBuilder('l')
      .innerJoin(TrackingEventEntity, 'e', 'e.eventId = l.entryId')
      .innerJoin(ServedAdEntity, 's', 's.requestId = e.requestId AND s.slot = e.slot')
      .select('l.requestId', 'requestId')
      .addSelect('SUM(l.chargedMicros)', 'micros')
      .where('e.servedAt >= :since AND e.servedAt < :until', { since, until }),
    's',
  )
    .groupBy('l.requestId')
    .getRawMany<{ requestId: string; micros: unknown }>();

  const byRequest = new Map<
    string,
    { -readonly [K in keyof ExperimentRequestRow]: ExperimentRequestRow[K] }
  >();
  for (const r of requests) {
    byRequest.set(r.requestId, {
      requestId: r.requestId,
      userId: r.userId,
      label: r.label ?? '',
      ads: Number(r.ads),
      impressions: 0,
      clicks: 0,
      conversions: 0,
      hides: 0,
      revenue: 0,
      advertiserValue: 0,
      servedAt: Number(r.servedAt),
    });
  }
  const counted: Record<string, 'impressions' | 'clicks' | 'conversions' | 'hides' | undefined> = {
    impression: 'impressions',
    click: 'clicks',
    conversion: 'conversions',
    hide: 'hides',
  };
  for (const e of events) {
    const row = byRequest.get(e.requestId);
    const key = counted[e.type];
    if (row === undefined || key === undefined) continue;
    row[key] += Number(e.n);
    row.advertiserValue += Number(e.value ?? 0);
  }
  for (const c of charges) {
    const row = byRequest.get(c.requestId);
    if (row !== undefined) row.revenue += Number(c.micros ?? 0) / 1e6;
  }
  return { rows: [...byRequest.values()], truncated };
}
