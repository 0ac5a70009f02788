#!/usr/bin/env node
import 'reflect-metadata';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openFunnelDatabase } from '@adfunnel/event-store';
import { exportServedDataset } from './served-export.js';
import { parseTimeOption } from './export-common.js';

const USAGE = `Usage: node tools/training/dist/export-served.js --out <dir> [options]

Exports what the funnel served and what users did with it as ranking training data: every served
ad with its feature row and an impression, labelled with its click and conversion events, written
as <out>/train and <out>/validation in the dataset format train_ranker.py reads
(tools/training/README.md). Reads the catalog database: DATABASE_URL (PostgreSQL, ?schema= allowed)
or else SQLITE_PATH (default var/adfunnel.sqlite).

  --out <dir>                   output directory (required)
  --since <time>                only ads served at or after this time (epoch ms or ISO 8601)
  --until <time>                only ads served before this time (epoch ms or ISO 8601)
  --model-version <version>     only ads scored by this ranking model version
  --validation-fraction <p>     share of request ids (hashed, deterministic) in validation/ (default 0.2)
  --batch-size <n>              rows per database query (default 5000)
  --json                        print the report as JSON on stdout
  -h, --help

Exit status: 0 on success, 1 when the export failed, 2 on a usage error.`;

function fail(message: string): never {
  process.stderr.write(`export-served: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        'model-version': { type: 'string' },
        'validation-fraction': { type: 'string', default: '0.2' },
        'batch-size': { type: 'string', default: '5000' },
        json: { type: 'boolean', default: false },
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
  if (values.out === undefined) fail('--out is required');
  const fraction = Number(values['validation-fraction']);
  if (!(fraction >= 0 && fraction < 1)) {
    fail(`--validation-fraction must be a number within [0, 1), got "${values['validation-fraction']}"`);
  }
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    fail(`--batch-size must be a positive integer, got "${values['batch-size']}"`);
  }
  const databaseUrl = process.env['DATABASE_URL'];
  const ds = await openFunnelDatabase({
    databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
    sqlitePath: process.env['SQLITE_PATH'] ?? 'var/adfunnel.sqlite',
  });
  try {
    const report = await exportServedDataset(ds, {
      out: resolve(values.out),
      since: parseTimeOption('since', values.since, fail),
      until: parseTimeOption('until', values.until, fail),
      modelVersion: values['model-version'],
      validationFraction: fraction,
      batchSize,
      onProgress: values.json ? undefined : (n) => process.stderr.write(`  ${n} rows read\n`),
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const line = (name: string, s: typeof report.train) =>
        `${name}: ${s.rows} rows, ${s.clicks} clicks (ctr ${(s.ctr * 100).toFixed(2)}%), ${s.conversions} conversions, ${s.hides} hides`;
      process.stdout.write(
        `exported ${report.read} served ads to ${report.out} in ${report.ms} ms\n` +
          `  ${line('train', report.train)}\n  ${line('validation', report.validation)}\n` +
          `  model versions: ${JSON.stringify(report.modelVersions)}\n`,
      );
    }
    if (report.read === 0) {
      process.stderr.write('export-served: no served ad with features and an impression matched\n');
      process.exitCode = 1;
    }
  } finally {
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`export-served: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
