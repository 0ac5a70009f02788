import type { BidType, Surface } from '@adfunnel/contracts';
import type { DataSource } from 'typeorm';
import { ServedAdEntity } from './entities/served-ad.entity.js';
import { TrackingEventEntity } from './entities/tracking-event.entity.js';

/** One served ad that ranking scored, and whether it was clicked. */
export interface LoggedClickOutcome {
  servedAt: number;
  surface: Surface;
  bidType: BidType;
  modelVersion: string | null;
  slot: number;
  /** What the auction used (calibrated when a calibrator applied). */
  pCtr: number;
  /** The model's own pCTR: pCtrRaw when a calibrator applied, else pCtr. */
  pCtrModel: number;
  calibrated: boolean;
  clicked: boolean;
}

export interface LoggedOutcomeWindow {
  /** Served at or after this (epoch ms, the funnel's clock). */
  since: number;
  /** Served before this: leaves out the most recent impressions, whose clicks may not be in yet. */
  until: number;
  /** At most this many, the most recent first. */
  limit: number;
  /** Only requests whose id starts so (a traffic run's own, e.g. `sim-<run>-`). */
  requestIdPrefix?: string;
  modelVersion?: string;
  /** Only impressions a calibrator applied to (true), or none did (false). */
  calibrated?: boolean;
}

/** The scored served ads of a window with their click labels: what calibration is fitted and checked on. */
export async function loggedClickOutcomes(
  ds: DataSource,
  { since, until, limit, requestIdPrefix, modelVersion, calibrated }: LoggedOutcomeWindow,
): Promise<LoggedClickOutcome[]> {
  const query = ds
    .getRepository(ServedAdEntity)
    .createQueryBuilder('s')
    .select('s.servedAt', 'servedAt')
    .addSelect('s.surface', 'surface')
    .addSelect('s.bidType', 'bidType')
    .addSelect('s.modelVersion', 'modelVersion')
    .addSelect('s.slot', 'slot')
    .addSelect('s.pCtr', 'pCtr')
    .addSelect('s.pCtrRaw', 'pCtrRaw')
    .addSelect('s.requestId', 'requestId')
    .where('s.pCtr IS NOT NULL')
    .andWhere('s.servedAt >= :since AND s.servedAt < :until', { since, until });
  if (requestIdPrefix !== undefined) {
    const prefix = `${requestIdPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query.andWhere("s.requestId LIKE :prefix ESCAPE '\\'", { prefix });
  }
  if (modelVersion !== undefined) query.andWhere('s.modelVersion = :modelVersion', { modelVersion });
  if (calibrated !== undefined) query.andWhere(`s.pCtrRaw IS ${calibrated ? 'NOT NULL' : 'NULL'}`);
  // From IDX_served_ads_calibration alone; the clicks of the same serve times in one more query,
  // rather than a lookup per impression.
  const rows = await query.orderBy('s.servedAt', 'DESC').limit(limit).getRawMany<Record<string, unknown>>();
  if (rows.length === 0) return [];
  const oldest = Number(rows[rows.length - 1]['servedAt']);
  const clicks = await ds
    .getRepository(TrackingEventEntity)
    .createQueryBuilder('e')
    .select('e.requestId', 'requestId')
    .addSelect('e.slot', 'slot')
    .where("e.type = 'click'")
    .andWhere('e.servedAt >= :oldest AND e.servedAt < :until', { oldest, until })
    .getRawMany<{ requestId: string; slot: unknown }>();
  const clicked = new Set(clicks.map((c) => `${c.requestId}:${Number(c.slot)}`));
  return rows.map((row) => {
    const pCtr = Number(row['pCtr']);
    const raw = row['pCtrRaw'];
    return {
      servedAt: Number(row['servedAt']),
      surface: row['surface'] as Surface,
      bidType: row['bidType'] as BidType,
      modelVersion: (row['modelVersion'] as string | null) ?? null,
      slot: Number(row['slot']),
      pCtr,
      pCtrModel: raw === null || raw === undefined ? pCtr : Number(raw),
      calibrated: raw !== null && raw !== undefined,
      clicked: clicked.has(`${row['requestId'] as string}:${Number(row['slot'])}`),
    };
  });
}
