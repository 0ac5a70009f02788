#!/usr/bin/env node
import 'reflect-metadata';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openFunnelDatabase } from '@adfunnel/event-store';
import { Logger } from '@nestjs/common';
import { exportRetrievalDataset } from './retrieval-export.js';
import { parseTimeOption } from './export-common.js';

const USAGE = `Usage: node tools/training/dist/export-retrieval.js --out <dir> [options]

Exports the funnel's log as two-tower retrieval training data (tools/training/README.md): the catalog's
ads (id, advertiser, title, text, category, visual embedding) to <out>/ads.jsonl, and every served ad
with an impression, its click, conversion and hide labels and the request it was served to (surface,
device, country, query, context ad, the user's logged activity) to <out>/served.jsonl in time order,
with the two-tower input spec in <out>/meta.json. Reads DATABASE_URL (PostgreSQL) or else SQLITE_PATH
(default var/adfunnel.sqlite).

  --out <dir>            output directory (required)
  --since <time>         only ads served at or after this time (epoch ms or ISO 8601)
  --until <time>         only ads served before this time (epoch ms or ISO 8601)
  --batch-size <n>       rows per database query (default 5000)
  --json                 print the report as JSON on stdout
  -h, --help

Exit status: 0 on success, 1 when the export failed or found no rows, 2 on a usage error.`;

function fail(message: string): never {
  process.stderr.write(`export-retrieval: ${message}\n\n${USAGE}\n`);
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
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    fail(`--batch-size must be a positive integer, got "${values['batch-size']}"`);
  }
  // The catalog reader logs through Nest, to stdout: keep stdout for the report (--json).
  Logger.overrideLogger(false);
  const databaseUrl = process.env['DATABASE_URL'];
  const ds = await openFunnelDatabase({
    databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
    sqlitePath: process.env['SQLITE_PATH'] ?? 'var/adfunnel.sqlite',
  });
  try {
    const report = await exportRetrievalDataset(ds, {
      out: resolve(values.out),
      since: parseTimeOption('since', values.since, fail),
      until: parseTimeOption('until', values.until, fail),
      batchSize,
      onProgress: values.json ? undefined : (n) => process.stderr.write(`  ${n} rows read\n`),
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      process.stdout.write(
        `exported ${report.rows} served ads (${report.clicks} clicks, ${report.conversions} conversions, ` +
          `${report.withActivity} with activity) and ${report.ads} catalog ads to ${report.out} in ${report.ms} ms\n` +
          `  request columns in the log: ${report.columns.join(', ') || 'none'}\n`,
      );
    }
    if (report.rows === 0) {
      process.stderr.write('export-retrieval: no served ad with an impression matched\n');
      process.exitCode = 1;
    }
  } finally {
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`export-retrieval: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
