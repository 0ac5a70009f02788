import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxWorkerPool, type ResolvedModel } from '@adfunnel/models';
import { type Interval, auc, pairedMeanDifference, rowLogloss } from './loop-statistics.js';

export interface HeldOutModelScore {
  version: string;
  /** Logloss of P(examine | slot, surface) x pCtr against the logged clicks. */
  logloss: number;
  auc: number | null;
  meanPredicted: number;
}

export interface HeldOutComparison {
  rows: number;
  clicks: number;
  before: HeldOutModelScore;
  after: HeldOutModelScore;
  /** Mean over rows of logloss(after) - logloss(before), 95% interval: negative is better. */
  loglossDifference: Interval;
}

interface SplitMeta {
  rows: number;
  columns: {
    features: { file: string; shape: [number, number] };
    /** shape[1] is 4 in exports written before hides were logged, 6 since (click first in both). */
    labels: { file: string; shape: [number, number] };
    context?: { file: string; surfaces: string[] };
  };
}

/** P(examine | slot, surface) per surface, as train_ranker.py records it in manifest.training.positionBias. */
type ExaminationTable = Record<string, number[]>;

/**
 * Scores the held-out (validation) split of the exported logs with both models: the same rows, so
 * the per-row logloss difference gives a paired test. Both models' pCtr are scaled by the
 * examination probabilities the new model learnt, as neither model predicts position.
 */
export async function compareOnHeldOut(
  splitDir: string,
  before: ResolvedModel,
  after: ResolvedModel,
): Promise<HeldOutComparison> {
  const meta = JSON.parse(await readFile(join(splitDir, 'meta.json'), 'utf8')) as SplitMeta;
  const [rows, dim] = meta.columns.features.shape;
  if (rows < 2) throw new Error(`${splitDir} holds ${rows} rows; the comparison needs at least two`);
  const features = floats(await readFile(join(splitDir, meta.columns.features.file)));
  const labels = floats(await readFile(join(splitDir, meta.columns.labels.file)));
  const context = meta.columns.context
    ? new Int32Array(bufferOf(await readFile(join(splitDir, meta.columns.context.file))))
    : undefined;
  const table = await examinationTable(after);
  const surfaces = meta.columns.context?.surfaces ?? [];
  const exam = new Float64Array(rows).fill(1);
  if (context && table) {
    for (let r = 0; r < rows; r++) {
      const bySlot = table[surfaces[context[r * 2 + 1]]];
      exam[r] = bySlot?.[context[r * 2]] ?? 1;
    }
  }
  const width = meta.columns.labels.shape[1];
  const clicks = Float64Array.from({ length: rows }, (_, r) => labels[r * width]);
  const pBefore = await scoreAll(before, features, rows, dim, exam);
  const pAfter = await scoreAll(after, features, rows, dim, exam);
  const differences = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    differences[r] = rowLogloss(pAfter[r], clicks[r]) - rowLogloss(pBefore[r], clicks[r]);
  }
  return {
    rows,
    clicks: clicks.reduce((a, b) => a + b, 0),
    before: summarize(before.version, pBefore, clicks),
    after: summarize(after.version, pAfter, clicks),
    loglossDifference: pairedMeanDifference(differences),
  };
}

async function examinationTable(model: ResolvedModel): Promise<ExaminationTable | undefined> {
  const raw = JSON.parse(await readFile(join(model.dir, 'manifest.json'), 'utf8')) as {
    training?: { positionBias?: ExaminationTable | null };
  };
  return raw.training?.positionBias ?? undefined;
}

async function scoreAll(
  model: ResolvedModel,
  features: Float32Array,
  rows: number,
  dim: number,
  exam: Float64Array,
): Promise<Float64Array> {
  const pool = await OnnxWorkerPool.open({ modelPath: model.modelPath, dim, workers: 1 });
  const out = new Float64Array(rows);
  try {
    const batch = 8192;
    for (let start = 0; start < rows; start += batch) {
      const n = Math.min(batch, rows - start);
      const { pCtr } = await pool.run(features.subarray(start * dim, (start + n) * dim), n, dim, {
        transfer: false,
      });
      for (let i = 0; i < n; i++) out[start + i] = pCtr[i] * exam[start + i];
    }
  } finally {
    await pool.close();
  }
  return out;
}

function summarize(version: string, p: Float64Array, clicks: Float64Array): HeldOutModelScore {
  let loss = 0;
  let mean = 0;
  for (let r = 0; r < p.length; r++) {
    loss += rowLogloss(p[r], clicks[r]);
    mean += p[r];
  }
  return { version, logloss: loss / p.length, auc: auc(p, clicks), meanPredicted: mean / p.length };
}

function bufferOf(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function floats(buf: Buffer): Float32Array {
  return new Float32Array(bufferOf(buf));
}
