import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { formatComparison } from './compare-table.js';
import { compareRuns, type ComparedRun } from './run-comparison.js';

export const SIM_COMPARE_HELP = `Usage: npm run sim -- compare A.json B.json [C.json ...] [--json]

Runs side by side (the --json summaries of npm run sim -- run, or the loop's sim-before.json and
sim-after.json): each figure per run, and each later run's difference from the first with a 95%
interval where one can be computed. Runs of the same seed are paired request by request (the same
arrival seq is the same user's same visit): sums (clicks, hides, revenue, ...) get
difference +- 1.96 SE of the per-request differences, ratios (CTR, hides per 1000 impressions) a
paired bootstrap; runs of other seeds get independent intervals. Figures the files carry only as
totals (fill rate, fatigue, the oracle's welfare and calibration) get none.

  --json     the comparison as JSON instead of the table
  -h, --help this text
`;

/** `sim compare`: exit status 0, or 2 on a usage error or a file that is not a run summary. */
export async function runCompare(
  argv: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(SIM_COMPARE_HELP);
    return 0;
  }
  const json = argv.includes('--json');
  const unknown = argv.find((a) => a.startsWith('-') && a !== '--json');
  const files = argv.filter((a) => !a.startsWith('-'));
  if (unknown !== undefined || files.length < 2) {
    err(
      `sim compare: ${unknown !== undefined ? `unknown option ${unknown}` : 'name at least two run summaries'}\n` +
        'Run `npm run sim -- compare --help` for usage.\n',
    );
    return 2;
  }
  const runs: ComparedRun[] = [];
  for (const file of files) {
    try {
      runs.push(asRun(JSON.parse(await readFile(file, 'utf8')), file));
    } catch (error) {
      err(`sim compare: ${file}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const comparison = compareRuns(runs);
  const names = runNames(files);
  out(
    json
      ? `${JSON.stringify({ runs: files, ...comparison }, null, 2)}\n`
      : formatComparison(names, comparison),
  );
  return 0;
}

/** Each file's base name, or its last two path segments where base names repeat (two loops' sim-before.json). */
export function runNames(files: readonly string[]): string[] {
  const base = files.map((f) => basename(f));
  return files.map((f, i) =>
    base.filter((b) => b === base[i]).length > 1 ? `${basename(dirname(f))}/${base[i]}` : base[i],
  );
}

function asRun(value: unknown, file: string): ComparedRun {
  const run = value as Partial<ComparedRun> | null;
  const fields = ['requests', 'impressions', 'clicks', 'conversions', 'hides', 'advertiserValue'] as const;
  const missing = fields.filter((f) => typeof run?.[f] !== 'number');
  if (
    run === null ||
    missing.length > 0 ||
    typeof run.revenue?.total !== 'number' ||
    run.engagement === undefined
  ) {
    throw new Error(
      `not a sim run summary (${missing.length > 0 ? `no ${missing.join(', ')}` : 'no revenue.total or engagement'}); ` +
        `write one with npm run sim -- run --json ${file}`,
    );
  }
  return { oracle: null, fillRate: null, ...run } as ComparedRun;
}
