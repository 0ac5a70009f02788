import type {
  ArmReport,
  ExperimentAnalysis,
  GroupSummary,
  MetricComparison,
  SrmReport,
} from '@adfunnel/experiments';

/** What logging's GET /v1/reports/experiments answers. */
export interface ExperimentsReportAnswer extends ExperimentAnalysis {
  window: { since: number; until: number; limit: number; requests: number; truncated: boolean };
  /** Absent from a logging older than the CUPED option. */
  prePeriod?: { since: number; until: number; limit: number; requests: number; truncated: boolean } | null;
  shares: { source: 'query' | 'EXPERIMENTS_CONFIG'; path?: string } | null;
  sharesProblem?: string;
}

const LABELS: Record<string, string> = {
  requests: 'requests/user',
  impressions: 'impressions/user',
  clicks: 'clicks/user',
  conversions: 'conversions/user',
  revenue: 'revenue/user $',
  advertiserValue: 'adv. value/user $',
  ctr: 'CTR',
  cvr: 'CVR',
  hidesPerMille: 'hides/1k impr',
  revenuePerMille: 'revenue/1k impr $',
};

/** The report as tables: one per layer (its arms, then each treatment against control), then the holdout. */
export function formatExperimentsReport(report: ExperimentsReportAnswer): string {
  const out: string[] = [];
  const { window } = report;
  const sharesFrom =
    report.shares === null
      ? `no shares (${report.sharesProblem ?? 'none given'})`
      : report.shares.source === 'query'
        ? 'shares from --config'
        : `shares from logging's EXPERIMENTS_CONFIG ${report.shares.path ?? ''}`.trimEnd();
  out.push(
    `served ${iso(window.since)} to ${iso(window.until)}: ${report.totals.requests} labelled requests, ` +
      `${report.totals.users} users${window.truncated ? ` (the most recent ${window.limit} requests only)` : ''}; ` +
      `${sharesFrom}; intervals at ${Math.round(report.level * 100)}%, the user as the unit`,
  );
  if (report.prePeriod) {
    const p = report.prePeriod;
    out.push(
      `CUPED pre-period ${iso(p.since)} to ${iso(p.until)}: ${p.requests} requests` +
        `${p.truncated ? ` (the most recent ${p.limit} only)` : ''}, ${report.cuped?.preUsers ?? 0} users; ` +
        'a user with none has covariate 0; "CI width" is the CUPED interval over the plain one',
    );
  }
  if (report.unreadableLabels > 0)
    out.push(`${report.unreadableLabels} requests with an unreadable label left out`);
  for (const layer of report.layers) {
    out.push('');
    out.push(
      `layer ${layer.name}: ${srmText(layer.srm, layer.srmUnavailable, report.srmThreshold)}; ` +
        `${layer.unassignedUsers} users in no arm, ${layer.usersInSeveralArms} in several arms`,
    );
    for (const experiment of layer.experiments) {
      out.push(`  experiment ${experiment.name} (control: ${experiment.control})`);
      out.push(...indent(armTable(experiment.arms), 4));
      for (const comparison of experiment.comparisons) {
        out.push(`    ${comparison.arm} against ${comparison.control}:`);
        out.push(...indent(comparisonTable(comparison.metrics), 6));
      }
    }
  }
  out.push('');
  const { holdout } = report;
  out.push(`holdout against the rest: ${srmText(holdout.srm, holdout.srmUnavailable, report.srmThreshold)}`);
  out.push(
    ...indent(
      armTable([
        { arm: 'holdout', share: null, ...holdout.holdout },
        { arm: 'rest', share: null, ...holdout.rest },
      ]),
      4,
    ),
  );
  out.push('    rest against holdout:');
  out.push(...indent(comparisonTable(holdout.comparison), 6));
  return `${out.join('\n')}\n`;
}

function srmText(srm: SrmReport | null, unavailable: string | undefined, threshold: number): string {
  if (srm === null) return `sample-ratio check unavailable (${unavailable ?? 'no shares'})`;
  const counts = srm.groups.map((g, i) => `${g} ${srm.counts[i]}/${srm.expected[i].toFixed(1)}`).join(', ');
  return (
    `sample ratio over ${srm.unit}s (seen/expected: ${counts}) chi2 ${srm.statistic.toFixed(2)}, ` +
    `p ${pValue(srm.pValue)}${srm.mismatch ? ` MISMATCH (p < ${threshold}): do not trust the comparison` : ' ok'}`
  );
}

function armTable(arms: readonly (Pick<ArmReport, 'arm' | 'share'> & GroupSummary)[]): string[] {
  return table(
    [
      'arm',
      'share',
      'users',
      'requests',
      'impr',
      'clicks',
      'CTR',
      'conv',
      'CVR',
      'hides/1k',
      'revenue $',
      'adv. value $',
    ],
    arms.map((a) => [
      a.arm,
      a.share === null ? '-' : a.share.toString(),
      String(a.totals.users),
      String(a.totals.requests),
      String(a.totals.impressions),
      String(a.totals.clicks),
      fixed(a.ctr, 4),
      String(a.totals.conversions),
      fixed(a.cvr, 4),
      fixed(a.hidesPerMille, 1),
      a.totals.revenue.toFixed(2),
      a.totals.advertiserValue.toFixed(2),
    ]),
  );
}

function comparisonTable(metrics: readonly MetricComparison[]): string[] {
  const withCuped = metrics.some((m) => m.cuped !== undefined);
  return table(
    [
      'metric',
      'control',
      'treatment',
      'difference [95% CI]',
      'p',
      'lift [95% CI]',
      ...(withCuped ? ['CUPED difference [95% CI]', 'CI width', 'rho'] : []),
    ],
    metrics.map((m) => {
      const digits = m.metric === 'ctr' || m.metric === 'cvr' ? 4 : 3;
      const d = m.difference;
      const l = m.relativeLift;
      return [
        LABELS[m.metric] ?? m.metric,
        fixed(m.control, digits),
        fixed(m.treatment, digits),
        d === null
          ? `- (${m.unavailable ?? 'unavailable'})`
          : `${signed(d.estimate, digits)} [${signed(d.ci[0], digits)}, ${signed(d.ci[1], digits)}]`,
        d === null ? '-' : pValue(d.pValue),
        l === null ? '-' : `${percent(l.estimate)} [${percent(l.ci[0])}, ${percent(l.ci[1])}]`,
        ...(withCuped ? cupedCells(m, digits) : []),
      ];
    }),
  );
}

function cupedCells(m: MetricComparison, digits: number): string[] {
  const c = m.cuped;
  if (c === undefined || c === null) return [`- (${m.cupedUnavailable ?? 'unavailable'})`, '-', '-'];
  const d = c.difference;
  return [
    `${signed(d.estimate, digits)} [${signed(d.ci[0], digits)}, ${signed(d.ci[1], digits)}]`,
    c.ciWidthRatio.toFixed(3),
    c.correlation.toFixed(3),
  ];
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const indent = (lines: string[], n: number) => lines.map((l) => `${' '.repeat(n)}${l}`);
const fixed = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits));
const signed = (v: number, digits: number) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
const percent = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
const pValue = (p: number) => (p < 0.0001 ? '<0.0001' : p.toFixed(4));
const iso = (ms: number) => new Date(ms).toISOString();
