import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { FEATURE_OFFSETS, FEATURE_SPEC, featureSpecFingerprint } from '@adfunnel/features';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import { type ClickDataset, type ClickSampling, LABEL_COLUMNS, type LabelSummary } from './click-dataset.js';

export const DATASET_FORMAT = 'adfunnel-ranking-clicks';
export const FEATURES_FILE = 'features.f32';
export const LABELS_FILE = 'labels.f32';
export const META_FILE = 'meta.json';
export const CONTEXT_FILE = 'context.i32';
/** Columns of context.i32 (exported logs only): where each row was shown. */
export const CONTEXT_COLUMNS = ['slot', 'surface'] as const;

export type DatasetSource =
  | { kind: 'simulator' }
  | {
      kind: 'served-log';
      /** Filters the export ran with; null when unset. */
      since: number | null;
      until: number | null;
      modelVersion: string | null;
      validationFraction: number;
      /** Served rows read (with features and an impression) before the split, and skipped ones by reason. */
      read: number;
      /** Model versions that scored the exported rows, with their row counts. */
      modelVersions: Record<string, number>;
    };

/** meta.json of one dataset split; documented in tools/training/README.md. */
export interface DatasetMeta {
  format: typeof DATASET_FORMAT;
  formatVersion: 1;
  split: string;
  rows: number;
  /** Simulator seed; null for exported logs. */
  seed: number | null;
  createdAt: string;
  /** Absent in datasets written before exports existed: those are simulator datasets. */
  source?: DatasetSource;
  featureSpec: { name: string; version: number; fingerprint: string; dim: number };
  featureGroups: { name: string; offset: number; dim: number }[];
  columns: {
    features: { file: string; dtype: 'float32'; byteOrder: 'little'; shape: [number, number] };
    labels: { file: string; dtype: 'float32'; byteOrder: 'little'; shape: [number, number]; names: string[] };
    /** Exported logs only: slot (0-based) and surface (index into `surfaces`) of each row. */
    context?: {
      file: string;
      dtype: 'int32';
      byteOrder: 'little';
      shape: [number, number];
      names: string[];
      surfaces: string[];
    };
  };
  /** The marketplace the rows came from (for logs: the spec the catalog was seeded with, if recorded). */
  marketplace: MarketplaceSpec | null;
  /** How the simulator drew rows; null for exported logs. */
  sampling: ClickSampling | null;
  summary: LabelSummary;
}

export function datasetMeta(
  dataset: ClickDataset,
  info: {
    split: string;
    seed: number;
    marketplace: MarketplaceSpec;
    sampling: ClickSampling;
    summary: LabelSummary;
  },
): DatasetMeta {
  return {
    format: DATASET_FORMAT,
    formatVersion: 1,
    split: info.split,
    rows: dataset.rows,
    seed: info.seed,
    createdAt: new Date().toISOString(),
    source: { kind: 'simulator' },
    featureSpec: currentFeatureSpec(),
    featureGroups: currentFeatureGroups(),
    columns: {
      features: featuresColumn(dataset.rows),
      labels: labelsColumn(dataset.rows),
    },
    marketplace: info.marketplace,
    sampling: info.sampling,
    summary: info.summary,
  };
}

export function currentFeatureSpec(): DatasetMeta['featureSpec'] {
  return {
    name: FEATURE_SPEC.name,
    version: FEATURE_SPEC.version,
    fingerprint: featureSpecFingerprint(),
    dim: FEATURE_SPEC.dim,
  };
}

export function currentFeatureGroups(): DatasetMeta['featureGroups'] {
  return FEATURE_SPEC.groups.map((g) => ({ name: g.name, offset: FEATURE_OFFSETS[g.name], dim: g.dim }));
}

export function featuresColumn(rows: number): DatasetMeta['columns']['features'] {
  return { file: FEATURES_FILE, dtype: 'float32', byteOrder: 'little', shape: [rows, FEATURE_SPEC.dim] };
}

export function labelsColumn(rows: number): DatasetMeta['columns']['labels'] {
  return {
    file: LABELS_FILE,
    dtype: 'float32',
    byteOrder: 'little',
    shape: [rows, LABEL_COLUMNS.length],
    names: [...LABEL_COLUMNS],
  };
}

function bytesOf(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

export function assertLittleEndian(): void {
  // Float32Array bytes are in host order; the files promise little-endian.
  if (endianness() !== 'LE') throw new Error('dataset files are little-endian; this host is big-endian');
}

export async function writeClickDataset(
  dir: string,
  dataset: ClickDataset,
  meta: DatasetMeta,
): Promise<void> {
  assertLittleEndian();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, FEATURES_FILE), bytesOf(dataset.features));
  await writeFile(join(dir, LABELS_FILE), bytesOf(dataset.labels));
  await writeFile(join(dir, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
}

export async function readClickDataset(dir: string): Promise<{ meta: DatasetMeta; dataset: ClickDataset }> {
  assertLittleEndian();
  const raw = JSON.parse(await readFile(join(dir, META_FILE), 'utf8')) as { format?: unknown };
  if (raw.format !== DATASET_FORMAT) {
    throw new Error(
      `${dir}/${META_FILE} has format ${JSON.stringify(raw.format)}, expected "${DATASET_FORMAT}"`,
    );
  }
  const meta = raw as DatasetMeta;
  const asFloats = (buf: Buffer, expected: number, file: string): Float32Array => {
    if (buf.byteLength !== expected * 4) {
      throw new Error(`${dir}/${file} has ${buf.byteLength} bytes, expected ${expected * 4}`);
    }
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  };
  const [rows, dim] = meta.columns.features.shape;
  const features = asFloats(await readFile(join(dir, FEATURES_FILE)), rows * dim, FEATURES_FILE);
  const labels = asFloats(await readFile(join(dir, LABELS_FILE)), rows * LABEL_COLUMNS.length, LABELS_FILE);
  return { meta, dataset: { rows, dim, features, labels } };
}
