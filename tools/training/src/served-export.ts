import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { ServedAdEntity, TrackingEventEntity } from '@adfunnel/event-store';
import { readSeededSpec } from '@adfunnel/catalog-seed';
import { SURFACES } from '@adfunnel/contracts';
import { FEATURE_SPEC } from '@adfunnel/features';
import type { DataSource } from 'typeorm';
import type { LabelSummary } from './click-dataset.js';
import {
  CONTEXT_COLUMNS,
  CONTEXT_FILE,
  DATASET_FORMAT,
  type DatasetMeta,
  FEATURES_FILE,
  LABELS_FILE,
  META_FILE,
  assertLittleEndian,
  currentFeatureGroups,
  currentFeatureSpec,
  featuresColumn,
  labelsColumn,
} from './dataset-files.js';
import { quoteTable, writeChunk } from './export-common.js';

export interface ServedExportOptions {
  /** Output directory: `train/` and `validation/` are written under it. */
  out: string;
  /** served_at >= since (epoch ms). */
  since?: number;
  /** served_at < until (epoch ms). */
  until?: number;
  /** Only rows scored by this model version. */
  modelVersion?: string;
  /** Share of request ids (by hash, so deterministic) that go to validation/. Default 0.2. */
  validationFraction?: number;
  /** Rows read per query. Default 5000. */
  batchSize?: number;
  onProgress?: (rowsRead: number) => void;
}

export interface ServedExportReport {
  out: string;
  train: LabelSummary;
  validation: LabelSummary;
  /** Rows read: served with features and an impression, within the filters. */
  read: number;
  modelVersions: Record<string, number>;
  ms: number;
}

interface JoinedRow {
  id: string;
  request_id: string;
  slot: number | string;
  surface: string;
  model_version: string | null;
  features: string;
  feature_dim: number | string;
  impression: number | string;
  click: number | string;
  conversion: number | string;
  hide: number | string;
}

const NAN = Number.NaN;

/**
 * Writes the served-ad log as a training dataset in the format the trainer reads (README): one row
 * per ad shown (served with its feature row and an impression event), its features exactly the
 * float32 row ranking scored, labels `click`, `conversion` and `hidden` from the tracking events of
 * the same (request, slot, ad), and `true_*` NaN (unknown outside the simulator). A side column
 * `context.i32` keeps slot and surface, for position-bias correction at training time. Rows are read
 * in keyset-paged batches and appended to the files, so memory stays flat whatever the log size.
 */
export async function exportServedDataset(
  ds: DataSource,
  options: ServedExportOptions,
): Promise<ServedExportReport> {
  const started = performance.now();
  assertLittleEndian();
  const fraction = options.validationFraction ?? 0.2;
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`validation fraction must be within [0, 1), got ${fraction}`);
  }
  const batchSize = options.batchSize ?? 5000;
  const splits = {
    train: await SplitWriter.open(join(options.out, 'train')),
    validation: await SplitWriter.open(join(options.out, 'validation')),
  };
  const modelVersions: Record<string, number> = {};
  let read = 0;
  try {
    let after = '';
    for (;;) {
      const rows = await readBatch(ds, options, after, batchSize);
      if (rows.length === 0) break;
      for (const row of rows) {
        const split = requestHash(row.request_id) < fraction ? splits.validation : splits.train;
        split.add(row);
        const version = row.model_version ?? 'none';
        modelVersions[version] = (modelVersions[version] ?? 0) + 1;
      }
      await Promise.all([splits.train.flush(), splits.validation.flush()]);
      read += rows.length;
      after = rows[rows.length - 1].id;
      options.onProgress?.(read);
      if (rows.length < batchSize) break;
    }
  } finally {
    await Promise.all([splits.train.close(), splits.validation.close()]);
  }
  const marketplace = await readSeededSpec(ds);
  const source: DatasetMeta['source'] = {
    kind: 'served-log',
    since: options.since ?? null,
    until: options.until ?? null,
    modelVersion: options.modelVersion ?? null,
    validationFraction: fraction,
    read,
    modelVersions,
  };
  await splits.train.writeMeta('train', marketplace, source);
  await splits.validation.writeMeta('validation', marketplace, source);
  return {
    out: options.out,
    train: splits.train.summary(),
    validation: splits.validation.summary(),
    read,
    modelVersions,
    ms: Math.round(performance.now() - started),
  };
}

async function readBatch(
  ds: DataSource,
  options: ServedExportOptions,
  after: string,
  limit: number,
): Promise<JoinedRow[]> {
  const postgres = ds.options.type === 'postgres';
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return postgres ? `$${params.length}` : '?';
  };
  const served = ds.getMetadata(ServedAdEntity).tablePath;
  const events = ds.getMetadata(TrackingEventEntity).tablePath;
  const where = [`s.id > ${param(after)}`, 's.features IS NOT NULL'];
  if (options.since !== undefined) where.push(`s.served_at >= ${param(options.since)}`);
  if (options.until !== undefined) where.push(`s.served_at < ${param(options.until)}`);
  if (options.modelVersion !== undefined) where.push(`s.model_version = ${param(options.modelVersion)}`);
  const flag = (type: string) => `MAX(CASE WHEN e.type = '${type}' THEN 1 ELSE 0 END)`;
  const sql = `
    SELECT s.id AS id, s.request_id AS request_id, s.slot AS slot, s.surface AS surface,
           s.model_version AS model_version, s.features AS features, s.feature_dim AS feature_dim,
           ${flag('impression')} AS impression, ${flag('click')} AS click,
           ${flag('conversion')} AS conversion, ${flag('hide')} AS hide
      FROM ${quoteTable(served, postgres)} s
      LEFT JOIN ${quoteTable(events, postgres)} e
        ON e.request_id = s.request_id AND e.slot = s.slot AND e.ad_id = s.ad_id
     WHERE ${where.join(' AND ')}
     GROUP BY s.id, s.request_id, s.slot, s.surface, s.model_version, s.features, s.feature_dim
    HAVING ${flag('impression')} = 1
     ORDER BY s.id
     LIMIT ${param(limit)}`;
  return ds.query<JoinedRow[]>(sql, params);
}

/** FNV-1a of the request id scaled to [0, 1): the same request lands in the same split on every export. */
export function requestHash(requestId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    h ^= requestId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

/** One split's three files, appended batch by batch. */
class SplitWriter {
  private rows = 0;
  private clicks = 0;
  private conversions = 0;
  private hides = 0;
  private features: number[][] = [];
  private labels: number[] = [];
  private context: number[] = [];

  private constructor(
    private readonly dir: string,
    private readonly streams: { features: WriteStream; labels: WriteStream; context: WriteStream },
  ) {}

  static async open(dir: string): Promise<SplitWriter> {
    await mkdir(dir, { recursive: true });
    return new SplitWriter(dir, {
      features: createWriteStream(join(dir, FEATURES_FILE)),
      labels: createWriteStream(join(dir, LABELS_FILE)),
      context: createWriteStream(join(dir, CONTEXT_FILE)),
    });
  }

  add(row: JoinedRow): void {
    const dim = Number(row.feature_dim);
    if (dim !== FEATURE_SPEC.dim) {
      throw new Error(
        `served row ${row.id} (model ${row.model_version ?? 'none'}) has feature_dim ${dim} but this build's ` +
          `feature spec ${FEATURE_SPEC.name} has ${FEATURE_SPEC.dim}; export one spec at a time with --model-version`,
      );
    }
    const features = JSON.parse(row.features) as number[];
    if (!Array.isArray(features) || features.length !== dim) {
      throw new Error(
        `served row ${row.id} holds ${String(features?.length)} feature values, expected ${dim}`,
      );
    }
    const surface = (SURFACES as readonly string[]).indexOf(row.surface);
    if (surface < 0) throw new Error(`served row ${row.id} has unknown surface "${row.surface}"`);
    const click = Number(row.click) === 1 ? 1 : 0;
    const conversion = click === 1 && Number(row.conversion) === 1 ? 1 : 0;
    // A hide is a "not interested" on an ad not clicked; a client that sends both keeps the click.
    const hidden = click === 0 && Number(row.hide) === 1 ? 1 : 0;
    this.features.push(features);
    this.labels.push(click, conversion, NAN, NAN, hidden, NAN);
    this.context.push(Number(row.slot), surface);
    this.rows++;
    this.clicks += click;
    this.conversions += conversion;
    this.hides += hidden;
  }

  async flush(): Promise<void> {
    if (this.features.length === 0) return;
    const matrix = new Float32Array(this.features.length * FEATURE_SPEC.dim);
    this.features.forEach((row, i) => matrix.set(row, i * FEATURE_SPEC.dim));
    await Promise.all([
      writeChunk(this.streams.features, Buffer.from(matrix.buffer)),
      writeChunk(this.streams.labels, Buffer.from(Float32Array.from(this.labels).buffer)),
      writeChunk(this.streams.context, Buffer.from(Int32Array.from(this.context).buffer)),
    ]);
    this.features = [];
    this.labels = [];
    this.context = [];
  }

  async close(): Promise<void> {
    await Promise.all(
      Object.values(this.streams).map(async (stream) => {
        stream.end();
        if (!stream.closed) await once(stream, 'close');
      }),
    );
  }

  summary(): LabelSummary {
    return {
      rows: this.rows,
      clicks: this.clicks,
      conversions: this.conversions,
      hides: this.hides,
      ctr: this.rows > 0 ? this.clicks / this.rows : 0,
      cvr: this.clicks > 0 ? this.conversions / this.clicks : 0,
      meanTrueCtr: null,
    };
  }

  async writeMeta(
    split: string,
    marketplace: DatasetMeta['marketplace'],
    source: DatasetMeta['source'],
  ): Promise<void> {
    const meta: DatasetMeta = {
      format: DATASET_FORMAT,
      formatVersion: 1,
      split,
      rows: this.rows,
      seed: null,
      createdAt: new Date().toISOString(),
      source,
      featureSpec: currentFeatureSpec(),
      featureGroups: currentFeatureGroups(),
      columns: {
        features: featuresColumn(this.rows),
        labels: labelsColumn(this.rows),
        context: {
          file: CONTEXT_FILE,
          dtype: 'int32',
          byteOrder: 'little',
          shape: [this.rows, CONTEXT_COLUMNS.length],
          names: [...CONTEXT_COLUMNS],
          surfaces: [...SURFACES],
        },
      },
      marketplace,
      sampling: null,
      summary: this.summary(),
    };
    await writeFile(join(this.dir, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
  }
}
