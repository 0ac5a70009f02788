import { ServedAdEntity, TrackingEventEntity } from '@adfunnel/event-store';
import type { DataSource } from 'typeorm';

/** Scored served ads of one surface, device and slot that were shown, and the clicks they drew. */
export interface SlotClickTotal {
  surface: string;
  device: string;
  slot: number;
  impressions: number;
  clicks: number;
  /** Σ pCtr the auction ranked them by. */
  expectedClicks: number;
}

export interface ServedWindow {
  /** Served at or after (epoch ms, the funnel's clock); absent: from the first record. */
  since?: number;
  /** Served before; absent: up to the last record. */
  until?: number;
}

/**
 * Totals per surface, device and slot over the served ads ranking scored (p_ctr set) whose
 * impression was logged; an ad counts as clicked when a click event names its request and slot.
 */
export async function slotClickTotals(ds: DataSource, window: ServedWindow): Promise<SlotClickTotal[]> {
  const events = (type: 'impression' | 'click') =>
    ds
      .getRepository(TrackingEventEntity)
      .createQueryBuilder(type)
      .select('1')
      .where(`${type}.requestId = s.requestId`)
      .andWhere(`${type}.slot = s.slot`)
      .andWhere(`${type}.type = '${type}'`)
      .getQuery();
  const query = ds
    .getRepository(ServedAdEntity)
    .createQueryBuilder('s')
    .select('s.surface', 'surface')
    .addSelect('s.device', 'device')
    .addSelect('s.slot', 'slot')
    .addSelect('COUNT(*)', 'impressions')
    .addSelect(`SUM(CASE WHEN EXISTS (${events('click')}) THEN 1 ELSE 0 END)`, 'clicks')
    .addSelect('SUM(s.pCtr)', 'expectedClicks')
    .where('s.pCtr IS NOT NULL')
    .andWhere(`EXISTS (${events('impression')})`)
    .groupBy('s.surface')
    .addGroupBy('s.device')
    .addGroupBy('s.slot')
    .orderBy('s.surface')
    .addOrderBy('s.device')
    .addOrderBy('s.slot');
  if (window.since !== undefined) query.andWhere('s.servedAt >= :since', { since: window.since });
  if (window.until !== undefined) query.andWhere('s.servedAt < :until', { until: window.until });
  const rows = await query.getRawMany<Record<string, unknown>>();
  return rows.map((row) => ({
    surface: String(row['surface']),
    device: String(row['device']),
    slot: Number(row['slot']),
    impressions: Number(row['impressions']),
    clicks: Number(row['clicks']),
    expectedClicks: Number(row['expectedClicks']),
  }));
}
