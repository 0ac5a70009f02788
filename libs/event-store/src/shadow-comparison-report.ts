import type { DataSource } from 'typeorm';
import { ServedAdEntity } from './entities/served-ad.entity.js';
import { ShadowScoreEntity } from './entities/shadow-score.entity.js';
import { TrackingEventEntity } from './entities/tracking-event.entity.js';
import {
  type ShadowComparison,
  type ShadowImpression,
  compareShadow,
  spearman,
} from './shadow-comparison.js';

/** Request ids per IN (...) list: under SQLite's bound-parameter limit. */
const IDS_PER_QUERY = 500;

export interface ShadowReportQuery {
  /** Only this shadow version; every one otherwise. */
  shadowVersion?: string;
  /** Scored at or after (epoch ms). */
  since?: number;
  /** Scored before (epoch ms). */
  until?: number;
  /** The most recent shadowed requests, at most. */
  limit: number;
}

export interface ShadowReportRow extends ShadowComparison {
  liveVersion: string;
  shadowVersion: string;
  /** Shadowed requests in the window (with or without an ad shown). */
  requests: number;
  /** Mean per-request Spearman correlation of the two models' pCTR over all candidates. */
  candidateRankCorrelation: number | null;
  firstScoredAt: number;
  lastScoredAt: number;
}

/**
 * Live against shadow per (live version, shadow version): the shadow log's requests joined to the ads
 * shown (served with an impression event) and their clicks, by request id and ad id. The scores are
 * the models' own (before any serve-time calibration), so both are compared the same way.
 */
export async function shadowComparisonReport(
  ds: DataSource,
  query: ShadowReportQuery,
): Promise<ShadowReportRow[]> {
  const builder = ds.getRepository(ShadowScoreEntity).createQueryBuilder('s');
  if (query.shadowVersion !== undefined) {
    builder.andWhere('s.shadowVersion = :version', { version: query.shadowVersion });
  }
  if (query.since !== undefined) builder.andWhere('s.scoredAt >= :since', { since: query.since });
  if (query.until !== undefined) builder.andWhere('s.scoredAt < :until', { until: query.until });
  const scored = await builder.orderBy('s.scoredAt', 'DESC').limit(query.limit).getMany();

  const shown = await shownAds(
    ds,
    scored.map((s) => s.requestId),
  );
  const groups = new Map<string, { rows: ShadowScoreEntity[]; impressions: ShadowImpression[] }>();
  for (const row of scored) {
    const key = `${row.liveVersion}\u0000${row.shadowVersion}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { rows: [], impressions: [] }));
    group.rows.push(row);
    for (const ad of shown.get(row.requestId) ?? []) {
      const i = row.adIds.indexOf(ad.adId);
      if (i < 0) continue;
      group.impressions.push({ live: row.livePCtr[i], shadow: row.shadowPCtr[i], clicked: ad.clicked });
    }
  }
  return [...groups.values()].map(({ rows, impressions }) => {
    const correlations = rows
      .map((r) => spearman(r.livePCtr, r.shadowPCtr))
      .filter((c): c is number => c !== null);
    return {
      liveVersion: rows[0].liveVersion,
      shadowVersion: rows[0].shadowVersion,
      requests: rows.length,
      ...compareShadow(impressions),
      candidateRankCorrelation:
        correlations.length === 0 ? null : correlations.reduce((a, b) => a + b, 0) / correlations.length,
      firstScoredAt: Math.min(...rows.map((r) => r.scoredAt)),
      lastScoredAt: Math.max(...rows.map((r) => r.scoredAt)),
    };
  });
}

/** Per request, the ads it served that had an impression, and whether each was clicked. */
async function shownAds(
  ds: DataSource,
  requestIds: string[],
): Promise<Map<string, { adId: number; clicked: boolean }[]>> {
  const shown = new Map<string, { adId: number; clicked: boolean }[]>();
  for (let at = 0; at < requestIds.length; at += IDS_PER_QUERY) {
    const ids = requestIds.slice(at, at + IDS_PER_QUERY);
    const [served, events] = await Promise.all([
      ds
        .getRepository(ServedAdEntity)
        .createQueryBuilder('a')
        .select(['a.requestId', 'a.slot', 'a.adId'])
        .where('a.requestId IN (:...ids)', { ids })
        .getMany(),
      ds
        .getRepository(TrackingEventEntity)
        .createQueryBuilder('e')
        .select(['e.requestId', 'e.slot', 'e.type'])
        .where('e.requestId IN (:...ids)', { ids })
        .andWhere('e.type IN (:...types)', { types: ['impression', 'click'] })
        .getMany(),
    ]);
    const seen = new Set<string>();
    for (const e of events) seen.add(`${e.requestId}:${e.slot}:${e.type}`);
    for (const ad of served) {
      if (!seen.has(`${ad.requestId}:${ad.slot}:impression`)) continue;
      const list = shown.get(ad.requestId) ?? [];
      list.push({ adId: ad.adId, clicked: seen.has(`${ad.requestId}:${ad.slot}:click`) });
      shown.set(ad.requestId, list);
    }
  }
  return shown;
}
