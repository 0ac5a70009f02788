#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_SPEC } from '@adfunnel/features';
import { OnnxWorkerPool, assertFeatureSpec, resolveCurrentModel } from '@adfunnel/models';
import { DEMO_MARKETPLACE } from '@adfunnel/simulator';
import { MarketplaceSample, generateClickDataset } from './click-dataset.js';

/**
 * Latency of the current ranking model through OnnxWorkerPool, as the ranking service calls it:
 * one request at a time (latency) and two at once (both workers busy).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      models: { type: 'string', default: 'models' },
      runs: { type: 'string', default: '300' },
      rows: { type: 'string', default: '200,1000' },
      workers: { type: 'string', default: '2' },
    },
  });
  const runs = Number(values.runs);
  const sizes = values.rows.split(',').map(Number);
  const model = await resolveCurrentModel(resolve(values.models), 'ranking');
  assertFeatureSpec(model.manifest, FEATURE_SPEC);
  const dim = FEATURE_SPEC.dim;
  const maxRows = Math.max(...sizes);
  const data = generateClickDataset(
    { marketplace: DEMO_MARKETPLACE, rows: maxRows, seed: 99, split: 'bench' },
    new MarketplaceSample(DEMO_MARKETPLACE),
  );
  const pool = await OnnxWorkerPool.open({
    modelPath: model.modelPath,
    dim,
    workers: Number(values.workers),
  });
  await pool.warmUp();
  process.stdout.write(
    `model ${model.name}@${model.version}, ${values.workers} workers x 1 intra-op thread, ${runs} runs\n`,
  );
  try {
    for (const rows of sizes) {
      const batch = (): Float32Array => data.features.slice(0, rows * dim);
      for (let i = 0; i < 20; i++) await pool.run(batch(), rows, dim);
      const serial: number[] = [];
      for (let i = 0; i < runs; i++) {
        const features = batch();
        const started = performance.now();
        await pool.run(features, rows, dim);
        serial.push(performance.now() - started);
      }
      const paired: number[] = [];
      for (let i = 0; i < runs / 2; i++) {
        const timed = async (): Promise<void> => {
          const features = batch();
          const started = performance.now();
          await pool.run(features, rows, dim);
          paired.push(performance.now() - started);
        };
        await Promise.all([timed(), timed()]);
      }
      process.stdout.write(`${rows} rows  one at a time: ${describe(serial)}\n`);
      process.stdout.write(`${rows} rows  two at a time: ${describe(paired)}\n`);
    }
  } finally {
    await pool.close();
  }
}

function describe(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): string =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(3);
  return `p50 ${at(0.5)} ms  p90 ${at(0.9)} ms  p99 ${at(0.99)} ms  (n=${ms.length})`;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-ranking-pool: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
