import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { CatalogReader } from '@adfunnel/catalog';
import { ServedAdEntity, TrackingEventEntity } from '@adfunnel/event-store';
import { TWO_TOWER_SPEC, twoTowerSpecFingerprint } from '@adfunnel/features';
import type { DataSource } from 'typeorm';
import { quoteTable, writeChunk } from './export-common.js';

export const RETRIEVAL_DATASET_FORMAT = 'adfunnel-retrieval-log';
export const RETRIEVAL_ADS_FILE = 'ads.jsonl';
export const RETRIEVAL_SERVED_FILE = 'served.jsonl';

/**
 * The served-ad columns the two-tower model's user side is read from (logging writes them with each
 * served ad: the request's query and context ad, and the user's activity state it was served with).
 * A log written before they existed still exports, its rows without query, context ad or activity.
 */
const REQUEST_COLUMNS = { query: 'query', contextAdId: 'context_ad_id', activity: 'user_activity' } as const;

export interface RetrievalExportOptions {
  /** Output directory: meta.json, ads.jsonl, served.jsonl. */
  out: string;
  since?: number;
  until?: number;
  /** Rows read per query. Default 5000. */
  batchSize?: number;
  onProgress?: (rowsRead: number) => void;
}

export interface RetrievalExportReport {
  out: string;
  ads: number;
  rows: number;
  clicks: number;
  conversions: number;
  /** Rows whose user activity was logged (the others were served before logging kept it, or to no one known). */
  withActivity: number;
  /** Which of the request columns the log has. */
  columns: string[];
  ms: number;
}

/** One served ad the client rendered, with what the user did with it and what it was served to. */
export interface RetrievalRow {
  requestId: string;
  servedAt: number;
  userId: string;
  surface: string;
  country: string;
  device: string;
  slot: number;
  adId: number;
  click: 0 | 1;
  conversion: 0 | 1;
  hidden: 0 | 1;
  query: string | null;
  contextAdId: number | null;
  activity: unknown;
}

interface JoinedRow {
  id: string;
  request_id: string;
  served_at: number | string;
  user_id: string;
  surface: string;
  country: string;
  device: string;
  slot: number | string;
  ad_id: number | string;
  click: number | string;
  conversion: number | string;
  hide: number | string;
  query?: string | null;
  context_ad_id?: number | string | null;
  user_activity?: string | object | null;
}

/**
 * Writes the log as two-tower training data (tools/training/README.md, "retrieval export"): the catalog's
 * ads with the fields the ad tower reads, and every served ad that was rendered (an impression event)
 * with its labels and the user side it was served with, in time order. Nothing is encoded here:
 * train_two_tower.py encodes with the spec recorded in meta.json (two_tower_inputs.py, held to the same
 * fixtures as libs/features), and serving encodes with libs/features.
 */
export async function exportRetrievalDataset(
  ds: DataSource,
  options: RetrievalExportOptions,
): Promise<RetrievalExportReport> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 5000;
  await mkdir(options.out, { recursive: true });

  const ads = await new CatalogReader(ds).loadAds();
  const adLines = ads.map((ad) =>
    JSON.stringify({
      id: ad.id,
      advertiserId: ad.advertiserId,
      campaignId: ad.campaignId,
      title: ad.title,
      text: ad.text,
      category: ad.category,
      categoryIndex: ad.categoryIndex,
      status: ad.status,
      campaignStatus: ad.campaign.status,
      embedding: Array.from(ad.embedding),
    }),
  );
  await writeFile(join(options.out, RETRIEVAL_ADS_FILE), adLines.length ? `${adLines.join('\n')}\n` : '');

  const served = ds.getMetadata(ServedAdEntity);
  const present = new Set(served.columns.map((c) => c.databaseName));
  const columns = Object.values(REQUEST_COLUMNS).filter((c) => present.has(c));
  const stream = createWriteStream(join(options.out, RETRIEVAL_SERVED_FILE));
  const report = { rows: 0, clicks: 0, conversions: 0, withActivity: 0 };
  let firstServedAt: number | null = null;
  let lastServedAt: number | null = null;
  try {
    let after: { servedAt: number; id: string } | undefined;
    for (;;) {
      const rows = await readBatch(ds, options, columns, after, batchSize);
      if (rows.length === 0) break;
      const lines: string[] = [];
      for (const raw of rows) {
        const row = toRow(raw);
        lines.push(JSON.stringify(row));
        report.rows++;
        report.clicks += row.click;
        report.conversions += row.conversion;
        if (row.activity !== null) report.withActivity++;
        firstServedAt ??= row.servedAt;
        lastServedAt = row.servedAt;
      }
      await writeChunk(stream, `${lines.join('\n')}\n`);
      const last = rows[rows.length - 1];
      after = { servedAt: Number(last.served_at), id: last.id };
      options.onProgress?.(report.rows);
      if (rows.length < batchSize) break;
    }
  } finally {
    stream.end();
    if (!stream.closed) await once(stream, 'close');
  }
  const meta = {
    format: RETRIEVAL_DATASET_FORMAT,
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    twoTowerSpec: { ...TWO_TOWER_SPEC, fingerprint: twoTowerSpecFingerprint() },
    files: { ads: RETRIEVAL_ADS_FILE, served: RETRIEVAL_SERVED_FILE },
    source: {
      kind: 'served-log',
      since: options.since ?? null,
      until: options.until ?? null,
      columns,
      firstServedAt,
      lastServedAt,
    },
    summary: { ads: ads.length, ...report },
  };
  await writeFile(join(options.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return {
    out: options.out,
    ads: ads.length,
    ...report,
    columns,
    ms: Math.round(performance.now() - started),
  };
}

function toRow(raw: JoinedRow): RetrievalRow {
  const click = Number(raw.click) === 1 ? 1 : 0;
  const activity = raw.user_activity ?? null;
  const contextAdId = raw.context_ad_id ?? null;
  return {
    requestId: raw.request_id,
    servedAt: Number(raw.served_at),
    userId: raw.user_id,
    surface: raw.surface,
    country: raw.country,
    device: raw.device,
    slot: Number(raw.slot),
    adId: Number(raw.ad_id),
    click,
    conversion: click === 1 && Number(raw.conversion) === 1 ? 1 : 0,
    hidden: click === 0 && Number(raw.hide) === 1 ? 1 : 0,
    query: raw.query ?? null,
    contextAdId: contextAdId === null ? null : Number(contextAdId),
    activity: typeof activity === 'string' ? (JSON.parse(activity) as unknown) : activity,
  };
}

async function readBatch(
  ds: DataSource,
  options: RetrievalExportOptions,
  columns: readonly string[],
  after: { servedAt: number; id: string } | undefined,
  limit: number,
): Promise<JoinedRow[]> {
  const postgres = ds.options.type === 'postgres';
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return postgres ? `$${params.length}` : '?';
  };
  const served = quoteTable(ds.getMetadata(ServedAdEntity).tablePath, postgres);
  const events = quoteTable(ds.getMetadata(TrackingEventEntity).tablePath, postgres);
  const where: string[] = [];
  // Keyset on (served_at, id): the file comes out in time order, which the trainer's time split needs.
  if (after !== undefined) {
    where.push(
      `(s.served_at > ${param(after.servedAt)} OR (s.served_at = ${param(after.servedAt)} AND s.id > ${param(after.id)}))`,
    );
  }
  if (options.since !== undefined) where.push(`s.served_at >= ${param(options.since)}`);
  if (options.until !== undefined) where.push(`s.served_at < ${param(options.until)}`);
  const flag = (type: string) => `MAX(CASE WHEN e.type = '${type}' THEN 1 ELSE 0 END)`;
  const extra = columns.map((c) => `s."${c}" AS "${c}"`);
  const keys = ['s.id', 's.request_id', 's.served_at', 's.user_id', 's.surface', 's.country', 's.device'];
  const groupBy = [...keys, 's.slot', 's.ad_id', ...columns.map((c) => `s."${c}"`)];
  const sql = `
    SELECT s.id AS id, s.request_id AS request_id, s.served_at AS served_at, s.user_id AS user_id,
           s.surface AS surface, s.country AS country, s.device AS device, s.slot AS slot, s.ad_id AS ad_id,
           ${extra.map((e) => `${e},`).join(' ')}
           ${flag('click')} AS click, ${flag('conversion')} AS conversion, ${flag('hide')} AS hide
      FROM ${served} s
      LEFT JOIN ${events} e
        ON e.request_id = s.request_id AND e.slot = s.slot AND e.ad_id = s.ad_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     GROUP BY ${groupBy.join(', ')}
    HAVING ${flag('impression')} = 1
     ORDER BY s.served_at, s.id
     LIMIT ${param(limit)}`;
  return ds.query<JoinedRow[]>(sql, params);
}
