import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hnswTopK } from './hnsw-search.js';
import { type Interactions, alignTest, indexTrain, parseInteractions } from './interactions.js';
import { type MetricsAtK, meanMetrics, meanOverlap } from './metrics.js';
import type { RetrievalEvalArgs } from './retrieval-eval-cli-args.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const TRAINER = join(REPO, 'tools/training/retrieval_eval.py');
const WORK_FORMAT = 'adfunnel-retrieval-eval';

export interface ModelResult {
  readonly name: string;
  readonly dim: number;
  readonly trainSeconds: number;
  readonly rankSeconds: number;
  readonly training: Record<string, unknown>;
  readonly metrics: MetricsAtK[];
}

export interface HnswResult {
  readonly model: 'two-tower';
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
  readonly buildSeconds: number;
  readonly searchSeconds: number;
  /** Per K: the metrics through HNSW, their ratio to exact, and the share of the exact top K found. */
  readonly atK: {
    readonly k: number;
    readonly recall: number;
    readonly ndcg: number;
    readonly recallVsExact: number;
    readonly overlap: number;
  }[];
}

export interface RetrievalEvalReport {
  readonly train: { file: string; interactions: number; distinct: number; users: number; items: number };
  readonly test: {
    file: string;
    interactions: number;
    evaluatedUsers: number;
    targets: number;
    skipped: ReturnType<typeof alignTest>['skipped'];
  };
  readonly ks: number[];
  readonly models: ModelResult[];
  readonly hnsw: HnswResult | null;
  readonly seconds: number;
}

async function readInteractions(path: string, args: RetrievalEvalArgs): Promise<Interactions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RangeError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseInteractions(text, args.format, path);
}

function runTrainer(python: string, argv: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const relay = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim() !== '') log(line);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', (error) =>
      reject(new Error(`cannot run ${python}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${python} ${TRAINER} exited with ${code}:\n${tail}`));
    });
  });
}

async function readF32(path: string): Promise<Float32Array> {
  const buf = await readFile(path);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

async function readI32(path: string): Promise<Int32Array> {
  const buf = await readFile(path);
  return new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

interface TrainerOutput {
  format: string;
  formatVersion: number;
  models: {
    name: string;
    dim: number;
    users: string;
    items: string;
    top: string;
    topK: number;
    trainSeconds: number;
    rankSeconds: number;
    training: Record<string, unknown>;
  }[];
}

/** Parses and aligns the files, trains and ranks in Python, then scores every model and HNSW. */
export async function evaluateRetrieval(
  args: RetrievalEvalArgs,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RetrievalEvalReport> {
  const started = performance.now();
  const train = await readInteractions(args.train, args);
  const test = await readInteractions(args.test, args);
  const index = indexTrain(train);
  const targets = alignTest(test, index);
  const users = index.userIndex.size;
  const items = index.itemIndex.size;
  const skipped = targets.skipped;
  log(
    `train: ${train.users.length} interactions (${index.pairs.length / 2} distinct), ${users} users x ${items} items; ` +
      `test: ${targets.users.length} users to evaluate, ${skipped.users} users and ${skipped.unknownItems} ` +
      `interactions with items absent from train skipped, ${skipped.inTrain} test pairs already in train dropped`,
  );
  if (targets.users.length === 0) throw new RangeError('no test user has a test item left to evaluate');
  const topK = Math.min(Math.max(...args.ks), items);
  if (Math.max(...args.ks) > items)
    throw new RangeError(`K ${Math.max(...args.ks)} exceeds the ${items} items of train`);

  const work = args.workDir ?? (await mkdtemp(join(tmpdir(), 'retrieval-eval-')));
  await mkdir(work, { recursive: true });
  try {
    await writeFile(
      join(work, 'input.json'),
      JSON.stringify({
        format: WORK_FORMAT,
        formatVersion: 1,
        users,
        items,
        trainRows: index.pairs.length / 2,
        evalUsers: targets.users.length,
        topK,
      }),
    );
    await writeFile(join(work, 'train.i32'), index.pairs);
    await writeFile(join(work, 'eval-users.i32'), targets.users);
    const python = args.python ?? process.env['PYTHON'] ?? '/usr/bin/python3';
    const argv = [TRAINER, '--dir', work, '--models', args.models.join(','), '--dim', String(args.dim)];
    argv.push('--seed', String(args.seed));
    if (args.epochs !== undefined) argv.push('--epochs', String(args.epochs));
    if (args.batchSize !== undefined) argv.push('--batch-size', String(args.batchSize));
    if (args.temperature !== undefined) argv.push('--temperature', String(args.temperature));
    if (args.bprEpochs !== undefined) argv.push('--bpr-epochs', String(args.bprEpochs));
    await runTrainer(python, argv, log);

    const output = JSON.parse(await readFile(join(work, 'output.json'), 'utf8')) as TrainerOutput;
    if (output.format !== WORK_FORMAT || output.formatVersion !== 1) {
      throw new Error(`${join(work, 'output.json')} is not ${WORK_FORMAT} v1`);
    }
    const models: ModelResult[] = [];
    let hnsw: HnswResult | null = null;
    for (const model of output.models) {
      const top = await readI32(join(work, model.top));
      const metrics = meanMetrics(top, model.topK, targets.relevant, args.ks);
      models.push({
        name: model.name,
        dim: model.dim,
        trainSeconds: model.trainSeconds,
        rankSeconds: model.rankSeconds,
        training: model.training,
        metrics,
      });
      if (model.name !== 'two-tower') continue;
      const trainItems = trainItemSets(index.pairs, users);
      const found = hnswTopK(
        await readF32(join(work, model.items)),
        await readF32(join(work, model.users)),
        model.dim,
        targets.users,
        (u) => trainItems[u],
        model.topK,
        { m: args.m, efConstruction: args.efConstruction, efSearch: args.efSearch },
      );
      const approx = meanMetrics(found.top, model.topK, targets.relevant, args.ks);
      hnsw = {
        model: 'two-tower',
        m: args.m,
        efConstruction: args.efConstruction,
        efSearch: args.efSearch,
        buildSeconds: round(found.buildMs / 1000),
        searchSeconds: round(found.searchMs / 1000),
        atK: approx.map((a, n) => ({
          k: a.k,
          recall: a.recall,
          ndcg: a.ndcg,
          recallVsExact: metrics[n].recall > 0 ? a.recall / metrics[n].recall : 1,
          overlap: meanOverlap(found.top, top, model.topK, a.k),
        })),
      };
      log(`hnsw: built over ${items} items in ${hnsw.buildSeconds} s, searched in ${hnsw.searchSeconds} s`);
    }
    return {
      train: {
        file: args.train,
        interactions: train.users.length,
        distinct: index.pairs.length / 2,
        users,
        items,
      },
      test: {
        file: args.test,
        interactions: test.users.length,
        evaluatedUsers: targets.users.length,
        targets: targets.relevant.reduce((n, s) => n + s.size, 0),
        skipped,
      },
      ks: args.ks,
      models,
      hnsw,
      seconds: round((performance.now() - started) / 1000),
    };
  } finally {
    if (args.workDir === undefined) await rm(work, { recursive: true, force: true });
  }
}

function trainItemSets(pairs: Int32Array, users: number): Set<number>[] {
  const sets = Array.from({ length: users }, () => new Set<number>());
  for (let p = 0; p < pairs.length; p += 2) sets[pairs[p]].add(pairs[p + 1]);
  return sets;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The report as a table: one row per model and K, then HNSW against exact. */
export function formatReport(report: RetrievalEvalReport): string {
  const lines: string[] = [];
  const s = report.test.skipped;
  lines.push(
    `train ${report.train.distinct} distinct interactions, ${report.train.users} users x ${report.train.items} items; ` +
      `test ${report.test.evaluatedUsers} users, ${report.test.targets} target interactions`,
  );
  lines.push(
    `not scored: ${s.users} test users absent from train (${s.userInteractions} interactions), ` +
      `${s.unknownItems} interactions with items absent from train, ${s.inTrain} already in train, ` +
      `${s.duplicates} repeats; ${s.usersWithNothingLeft} users left with no target`,
  );
  lines.push('');
  const header = ['model', ...report.ks.flatMap((k) => [`Recall@${k}`, `NDCG@${k}`]), 'train s'];
  const rows = report.models.map((m) => [
    m.name,
    ...m.metrics.flatMap((x) => [x.recall.toFixed(4), x.ndcg.toFixed(4)]),
    m.trainSeconds.toFixed(1),
  ]);
  if (report.hnsw !== null) {
    rows.push([
      'two-tower hnsw',
      ...report.hnsw.atK.flatMap((x) => [x.recall.toFixed(4), x.ndcg.toFixed(4)]),
      report.hnsw.buildSeconds.toFixed(1),
    ]);
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  for (const row of [header, ...rows]) lines.push(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
  if (report.hnsw !== null) {
    const h = report.hnsw;
    lines.push('');
    lines.push(
      `HNSW (m ${h.m}, efConstruction ${h.efConstruction}, efSearch ${h.efSearch}) against exact: ` +
        h.atK
          .map(
            (x) =>
              `Recall@${x.k} ratio ${x.recallVsExact.toFixed(4)}, overlap@${x.k} ${x.overlap.toFixed(4)}`,
          )
          .join('; '),
    );
  }
  lines.push(`${report.seconds.toFixed(1)} s in all`);
  return lines.join('\n');
}
