import type { CampaignDayReportRow } from '@adfunnel/event-store';

const COLUMNS = [
  'day',
  'campaign',
  'advertiser',
  'spend',
  'budget',
  'delivery',
  'overdelivered',
  'impr',
  'clicks',
  'conv',
  'hides',
];

const usd = (micros: number) => `$${(micros / 1_000_000).toFixed(2)}`;

/** The report as an aligned text table, with a total line. */
export function reportTable(rows: readonly CampaignDayReportRow[]): string {
  if (rows.length === 0) return 'no spend and no events in that range\n';
  const cells = rows.map((r) => [
    r.billingDay,
    String(r.campaignId),
    String(r.advertiserId),
    usd(r.spendMicros),
    usd(r.budgetMicros),
    `${r.deliveryPct.toFixed(1)}%`,
    usd(r.overdeliveredMicros),
    String(r.impressions),
    String(r.clicks),
    String(r.conversions),
    String(r.hides),
  ]);
  const sum = (pick: (r: CampaignDayReportRow) => number) => rows.reduce((n, r) => n + pick(r), 0);
  cells.push([
    'total',
    `${new Set(rows.map((r) => r.campaignId)).size} campaigns`,
    '',
    usd(sum((r) => r.spendMicros)),
    usd(sum((r) => r.budgetMicros)),
    '',
    usd(sum((r) => r.overdeliveredMicros)),
    String(sum((r) => r.impressions)),
    String(sum((r) => r.clicks)),
    String(sum((r) => r.conversions)),
    String(sum((r) => r.hides)),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return `${[line(COLUMNS), ...cells.map(line)].join('\n')}\n`;
}
