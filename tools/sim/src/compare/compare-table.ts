import type { Interval, RunComparison } from './run-comparison.js';

const PERCENT = new Set(['fill rate', 'CTR', 'welfare vs oracle', '  given retrieval']);
const MONEY = new Set(['revenue (USD)', 'advertiser value (USD)']);
const THREE = new Set([
  'mean fatigue multiplier',
  'ranking calibration (oracle)',
  'hides per 1000 impressions',
]);

/** A value of `metric` as the table shows it; percentages as %, their differences in pp. */
function format(metric: string, x: number, difference: boolean): string {
  const sign = difference && x > 0 ? '+' : '';
  if (PERCENT.has(metric)) return `${sign}${(100 * x).toFixed(2)}${difference ? ' pp' : '%'}`;
  if (MONEY.has(metric)) return `${sign}${x.toFixed(2)}`;
  if (THREE.has(metric)) return `${sign}${x.toFixed(3)}`;
  return `${sign}${Number.isInteger(x) ? String(x) : x.toFixed(1)}`;
}

function interval(metric: string, i: Interval | null): string {
  return i === null ? '' : `[${format(metric, i.low, true)}, ${format(metric, i.high, true)}]`;
}

/** Runs side by side: each run's value, and for each later run its difference from the first and the 95% CI. */
export function formatComparison(names: readonly string[], comparison: RunComparison): string {
  const header = [
    '',
    names[0],
    ...names.slice(1).flatMap((name) => [name, `${name} - ${names[0]}`, '95% CI']),
  ];
  const body = comparison.rows.map((row) => [
    row.metric,
    row.values[0] === null ? 'n/a' : format(row.metric, row.values[0], false),
    ...row.values.slice(1).flatMap((v, k) => {
      const i = k + 1;
      const d = row.differences[i];
      return [
        v === null ? 'n/a' : format(row.metric, v, false),
        d === null ? '' : format(row.metric, d, true),
        interval(row.metric, row.intervals[i]),
      ];
    }),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  const notes = comparison.pairings.slice(1).map((p, k) => {
    const name = names[k + 1];
    if (p.kind === 'paired')
      return `${name}: paired with ${names[0]} request by request (${p.requests} requests of the same seqs)`;
    if (p.kind === 'unpaired')
      return `${name}: not the same requests as ${names[0]} (another seed?): independent intervals`;
    return `${name}: no per-request outcomes in one of the files (older run): no intervals`;
  });
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    '',
    ...notes,
    '',
  ].join('\n');
}
