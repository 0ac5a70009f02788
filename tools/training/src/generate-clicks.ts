#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_MARKETPLACE } from '@adfunnel/simulator';
import {
  type ClickSampling,
  DEFAULT_SAMPLING,
  MarketplaceSample,
  generateClickDataset,
  summarizeLabels,
} from './click-dataset.js';
import { datasetMeta, writeClickDataset } from './dataset-files.js';

const USAGE = `Usage: node tools/training/dist/generate-clicks.js [options]

Draws ranking training data from the seeded marketplace simulator and writes
<out>/train and <out>/validation (format: tools/training/README.md).

  --out <dir>                 output directory (default tools/training/.data)
  --rows <n>                  training rows (default 300000)
  --validation-rows <n>       validation rows, an independent stream (default 100000; 0 = none)
  --seed <n>                  seed of the example streams (default 7)
  --interest-share <p>        share of ads drawn from the user's interest topics (default ${DEFAULT_SAMPLING.interestShare})
  --cold-start-share <p>      share of rows served as to an unknown user (default ${DEFAULT_SAMPLING.coldStartShare})
  --usual-device-share <p>    share of rows on the user's usual device (default ${DEFAULT_SAMPLING.usualDeviceShare})
  -h, --help`;

function fail(message: string): never {
  process.stderr.write(`generate-clicks: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function integer(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${text}"`);
  return n;
}

function share(name: string, text: string): number {
  const p = Number(text);
  if (!(p >= 0 && p <= 1)) fail(`--${name} must be a number within [0, 1], got "${text}"`);
  return p;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: 'string', default: 'tools/training/.data' },
        rows: { type: 'string', default: '300000' },
        'validation-rows': { type: 'string', default: '100000' },
        seed: { type: 'string', default: '7' },
        'interest-share': { type: 'string', default: String(DEFAULT_SAMPLING.interestShare) },
        'cold-start-share': { type: 'string', default: String(DEFAULT_SAMPLING.coldStartShare) },
        'usual-device-share': { type: 'string', default: String(DEFAULT_SAMPLING.usualDeviceShare) },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const out = resolve(values.out);
  const seed = integer('seed', values.seed, 0);
  const sampling: ClickSampling = {
    interestShare: share('interest-share', values['interest-share']),
    coldStartShare: share('cold-start-share', values['cold-start-share']),
    usualDeviceShare: share('usual-device-share', values['usual-device-share']),
  };
  const splits: [string, number][] = [
    ['train', integer('rows', values.rows, 1)],
    ['validation', integer('validation-rows', values['validation-rows'], 0)],
  ];

  const marketplace = DEMO_MARKETPLACE;
  const market = new MarketplaceSample(marketplace);
  for (const [split, rows] of splits) {
    if (rows === 0) continue;
    const started = performance.now();
    const dataset = generateClickDataset({ marketplace, rows, seed, split, sampling }, market);
    const summary = summarizeLabels(dataset);
    const dir = resolve(out, split);
    await writeClickDataset(
      dir,
      dataset,
      datasetMeta(dataset, { split, seed, marketplace, sampling, summary }),
    );
    process.stdout.write(
      `${split}: ${rows} rows x ${dataset.dim} -> ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `clicks ${summary.clicks} (ctr ${summary.ctr.toFixed(4)}), conversions ${summary.conversions} ` +
        `(cvr|click ${summary.cvr.toFixed(4)}), hides ${summary.hides}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `generate-clicks failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
