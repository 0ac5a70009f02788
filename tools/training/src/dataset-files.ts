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

/** meta.json of one dataset split; documented in tools/training/README.md. */
export interface DatasetMeta {
  format: typeof DATASET_FORMAT;
  formatVersion: 1;
  split: string;
  rows: number;
  seed: number;
  createdAt: string;
  featureSpec: { name: string; version: number; fingerprint: string; dim: number };
  featureGroups: { name: string; offset: number; dim: number }[];
  columns: {
    features: { file: string; dtype: 'float32'; byteOrder: 'little'; shape: [number, number] };
    labels: { file: string; dtype: 'float32'; byteOrder: 'little'; shape: [number, number]; names: string[] };
  };
  marketplace: MarketplaceSpec;
  sampling: ClickSampling;
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
    featureSpec: {
      name: FEATURE_SPEC.name,
      version: FEATURE_SPEC.version,
      fingerprint: featureSpecFingerprint(),
      dim: FEATURE_SPEC.dim,
    },
    featureGroups: FEATURE_SPEC.groups.map((g) => ({
      name: g.name,
      offset: FEATURE_OFFSETS[g.name],
      dim: g.dim,
    })),
    columns: {
      features: {
        file: FEATURES_FILE,
        dtype: 'float32',
        byteOrder: 'little',
        shape: [dataset.rows, dataset.dim],
      },
      labels: {
        file: LABELS_FILE,
        dtype: 'float32',
        byteOrder: 'little',
        shape: [dataset.rows, LABEL_COLUMNS.length],
        names: [...LABEL_COLUMNS],
      },
    },
    marketplace: info.marketplace,
    sampling: info.sampling,
    summary: info.summary,
  };
}

function bytesOf(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function assertLittleEndian(): void {
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
