import type {
  ArmReport,
  GroupSummary,
  Interval,
  MetricComparison,
  SeriesPoint,
  SrmReport,
} from '@adfunnel/experiments';
import type { ExperimentsReportAnswer } from './format-report.js';

/**
 * The report as one self-contained HTML page: no script, no external style, font or image; the plots
 * are inline SVG drawn here. Every text that comes from the report (names, reasons, paths) is escaped.
 */
export function renderHtmlReport(report: ExperimentsReportAnswer): string {
  const body: string[] = [];
  const level = `${Math.round(report.level * 100)}%`;
  body.push('<h1>Experiments report</h1>');
  body.push(summary(report, level));
  body.push(configSummary(report));
  for (const layer of report.layers) {
    body.push(`<section class="layer"><h2>Layer ${esc(layer.name)}</h2>`);
    body.push(
      `<p>${layer.unassignedUsers} users in no arm of this layer, ${layer.usersInSeveralArms} in several arms.</p>`,
    );
    body.push(srmBlock(layer.srm, layer.srmUnavailable, report.srmThreshold));
    for (const experiment of layer.experiments) {
      body.push(
        `<section class="experiment"><h3>Experiment ${esc(experiment.name)} (control: ${esc(experiment.control)})</h3>`,
      );
      body.push(armTable(experiment.arms));
      for (const comparison of experiment.comparisons) {
        body.push(
          comparisonBlock(`${comparison.arm} against ${comparison.control}`, comparison.metrics, level),
        );
      }
      body.push(seriesBlock(experiment.arms, report, level));
      body.push('</section>');
    }
    body.push('</section>');
  }
  const { holdout } = report;
  const groups = [
    { arm: 'holdout', share: null, ...holdout.holdout },
    { arm: 'rest', share: null, ...holdout.rest },
  ];
  body.push('<section class="layer"><h2>Holdout against the rest</h2>');
  body.push(srmBlock(holdout.srm, holdout.srmUnavailable, report.srmThreshold));
  body.push(armTable(groups));
  body.push(comparisonBlock('rest against holdout', holdout.comparison, level));
  body.push(seriesBlock(groups, report, level));
  body.push('</section>');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Experiments report ${esc(iso(report.window.since))} to ${esc(iso(report.window.until))}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #eee; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; }
.ok { color: #1a7f37; } .bad { color: #c00; font-weight: bold; } .muted { color: #777; }
.sig { font-weight: bold; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
svg { background: #fff; border: 1px solid #ddd; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dt { font-weight: bold; }
`;

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const PLAIN = '#1f77b4';
const CUPED = '#e8590c';

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

function summary(report: ExperimentsReportAnswer, level: string): string {
  const { window } = report;
  const shares =
    report.shares === null
      ? `none (${report.sharesProblem ?? 'none given'})`
      : report.shares.source === 'query'
        ? 'from --config'
        : `from logging's EXPERIMENTS_CONFIG ${report.shares.path ?? ''}`;
  const rows: [string, string][] = [
    ['window', `${iso(window.since)} to ${iso(window.until)}`],
    [
      'labelled requests',
      `${report.totals.requests}${window.truncated ? ` (the most recent ${window.limit} only)` : ''}`,
    ],
    ['users', String(report.totals.users)],
    ['impressions, clicks', `${report.totals.impressions}, ${report.totals.clicks}`],
    ['revenue (ledger)', `$${report.totals.revenue.toFixed(2)}`],
    ['shares', shares],
    ['intervals', `${level}, the user as the unit`],
    ['series', `per UTC ${report.series?.bucket ?? 'day'}`],
  ];
  const pre = report.prePeriod;
  rows.push([
    'CUPED',
    pre
      ? `pre-period ${iso(pre.since)} to ${iso(pre.until)}: ${pre.requests} requests${pre.truncated ? ` (the most recent ${pre.limit} only)` : ''}, ${report.cuped?.preUsers ?? 0} users; a user with none has covariate 0`
      : 'off (no pre-period)',
  ]);
  if (report.unreadableLabels > 0)
    rows.push(['unreadable labels', `${report.unreadableLabels} requests left out`]);
  return `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function configSummary(report: ExperimentsReportAnswer): string {
  const rows: string[] = [];
  const holdoutShare = report.holdout.srm?.shares[0];
  rows.push(
    `<tr><td>holdout</td><td>user</td><td>-</td><td>-</td><td>${holdoutShare === undefined ? '-' : esc(String(holdoutShare))}</td></tr>`,
  );
  for (const layer of report.layers) {
    for (const experiment of layer.experiments) {
      for (const arm of experiment.arms) {
        rows.push(
          `<tr><td>${esc(layer.name)}</td><td>${esc(layer.srm?.unit ?? '-')}</td><td>${esc(experiment.name)}</td>` +
            `<td>${esc(arm.arm)}${arm.arm === experiment.control ? ' <span class="muted">(control)</span>' : ''}</td>` +
            `<td>${arm.share === null ? '-' : esc(String(arm.share))}</td></tr>`,
        );
      }
    }
  }
  return `<h2>Configuration</h2><table><thead><tr><th>layer</th><th>unit</th><th>experiment</th><th>arm</th><th>share</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function srmBlock(srm: SrmReport | null, unavailable: string | undefined, threshold: number): string {
  if (srm === null) {
    return `<p class="muted">Sample-ratio check unavailable: ${esc(unavailable ?? 'no shares')}.</p>`;
  }
  const verdict = srm.mismatch
    ? `<span class="bad">MISMATCH (p &lt; ${esc(String(threshold))}): do not trust the comparison</span>`
    : '<span class="ok">ok</span>';
  const rows = srm.groups
    .map(
      (g, i) =>
        `<tr><td>${esc(g)}</td><td>${esc(String(srm.shares[i]))}</td><td>${srm.counts[i]}</td><td>${srm.expected[i].toFixed(1)}</td></tr>`,
    )
    .join('');
  return (
    `<p>Sample-ratio check over ${esc(srm.unit)}s: chi2 ${srm.statistic.toFixed(2)}, df ${srm.df}, p ${pValue(srm.pValue)} ${verdict}</p>` +
    `<table class="srm"><thead><tr><th>group</th><th>share</th><th>seen</th><th>expected</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function armTable(arms: readonly (Pick<ArmReport, 'arm' | 'share'> & GroupSummary)[]): string {
  const header = [
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
    'revenue/user $',
    'adv. value $',
  ];
  const rows = arms.map((a) =>
    [
      esc(a.arm),
      a.share === null ? '-' : esc(String(a.share)),
      String(a.totals.users),
      String(a.totals.requests),
      String(a.totals.impressions),
      String(a.totals.clicks),
      fixed(a.ctr, 4),
      String(a.totals.conversions),
      fixed(a.cvr, 4),
      fixed(a.hidesPerMille, 1),
      a.totals.revenue.toFixed(2),
      fixed(a.perUser.revenue, 3),
      a.totals.advertiserValue.toFixed(2),
    ]
      .map((c) => `<td>${c}</td>`)
      .join(''),
  );
  return `<table class="arms"><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table>`;
}

function comparisonBlock(title: string, metrics: readonly MetricComparison[], level: string): string {
  const withCuped = metrics.some((m) => m.cuped !== undefined);
  const header = [
    'metric',
    'control',
    'treatment',
    `difference [${level} CI]`,
    'p',
    `lift [${level} CI]`,
    ...(withCuped ? [`CUPED difference [${level} CI]`, 'CUPED p', 'CI width', 'rho', 'theta'] : []),
  ];
  const rows = metrics.map((m) => {
    const digits = m.metric === 'ctr' || m.metric === 'cvr' ? 4 : 3;
    const d = m.difference;
    const l = m.relativeLift;
    const cells = [
      esc(LABELS[m.metric] ?? m.metric),
      fixed(m.control, digits),
      fixed(m.treatment, digits),
      d === null
        ? `<span class="muted">- (${esc(m.unavailable ?? 'unavailable')})</span>`
        : `${signed(d.estimate, digits)} [${signed(d.ci[0], digits)}, ${signed(d.ci[1], digits)}]`,
      d === null ? '-' : `<span${d.pValue < 0.05 ? ' class="sig"' : ''}>${pValue(d.pValue)}</span>`,
      l === null ? '-' : `${percent(l.estimate)} [${percent(l.ci[0])}, ${percent(l.ci[1])}]`,
    ];
    if (withCuped) {
      const c = m.cuped;
      if (c === undefined || c === null) {
        cells.push(
          `<span class="muted">- (${esc(m.cupedUnavailable ?? 'unavailable')})</span>`,
          '-',
          '-',
          '-',
          '-',
        );
      } else {
        const cd = c.difference;
        cells.push(
          `${signed(cd.estimate, digits)} [${signed(cd.ci[0], digits)}, ${signed(cd.ci[1], digits)}]`,
          `<span${cd.pValue < 0.05 ? ' class="sig"' : ''}>${pValue(cd.pValue)}</span>`,
          c.ciWidthRatio.toFixed(3),
          c.correlation.toFixed(3),
          c.theta.toPrecision(3),
        );
      }
    }
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return (
    `<h4>${esc(title)}</h4>` +
    `<table class="comparison"><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>` +
    forestPlot(title, metrics, level)
  );
}

// ---- plots ---------------------------------------------------------------------------------------

/** Each metric's relative lift (one axis for every metric, in %) with its interval: plain, and CUPED below it. */
export function forestPlot(title: string, metrics: readonly MetricComparison[], level: string): string {
  const rowHeight = 26;
  const left = 140;
  const right = 200;
  const width = 860;
  const top = 48;
  const height = top + rowHeight * metrics.length + 34;
  const values: number[] = [0];
  for (const m of metrics) {
    for (const l of [m.relativeLift, m.cuped?.relativeLift ?? null]) {
      if (l !== null && Number.isFinite(l.ci[0]) && Number.isFinite(l.ci[1])) values.push(l.ci[0], l.ci[1]);
    }
  }
  const [lo, hi] = extent(values);
  const x = scale(lo, hi, left, width - right);
  const parts: string[] = [];
  parts.push(
    `<text x="${left}" y="16">${esc(`${title}: relative lift with ${level} intervals`)}</text>`,
    legend(width - right + 10, 6, [
      ['plain', PLAIN],
      ...(metrics.some((m) => m.cuped) ? ([['CUPED', CUPED]] as [string, string][]) : []),
    ]),
  );
  const bottom = top + rowHeight * metrics.length;
  for (const t of ticks(lo, hi, 6)) {
    parts.push(
      `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${top}" y2="${bottom}" stroke="#eee"/>`,
      `<text x="${n(x(t))}" y="${bottom + 14}" text-anchor="middle">${esc(percent(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${n(x(0))}" x2="${n(x(0))}" y1="${top - 4}" y2="${bottom}" stroke="#555" stroke-dasharray="4 3"/>`,
  );
  metrics.forEach((m, i) => {
    const y = top + rowHeight * i + rowHeight / 2;
    parts.push(
      `<text x="${left - 8}" y="${n(y + 4)}" text-anchor="end">${esc(LABELS[m.metric] ?? m.metric)}</text>`,
    );
    const bar = (l: MetricComparison['relativeLift'], dy: number, color: string) => {
      if (l === null) return;
      const [a, b] = [x(clamp(l.ci[0], lo, hi)), x(clamp(l.ci[1], lo, hi))];
      parts.push(
        `<line x1="${n(a)}" x2="${n(b)}" y1="${n(y + dy)}" y2="${n(y + dy)}" stroke="${color}" stroke-width="2"/>`,
        `<circle cx="${n(x(clamp(l.estimate, lo, hi)))}" cy="${n(y + dy)}" r="3.5" fill="${color}"/>`,
      );
    };
    if (m.relativeLift === null) {
      parts.push(
        `<text x="${left + 4}" y="${n(y + 4)}" class="muted" fill="#888">${esc(`no lift (${m.unavailable ?? 'control is 0'})`)}</text>`,
      );
    } else bar(m.relativeLift, m.cuped ? -4 : 0, PLAIN);
    if (m.cuped) bar(m.cuped.relativeLift, 4, CUPED);
    const label = (l: MetricComparison['relativeLift'], dy: number, color: string) => {
      if (l === null) return;
      parts.push(
        `<text x="${width - right + 10}" y="${n(y + dy)}" fill="${color}">${esc(`${percent(l.estimate)} [${percent(l.ci[0])}, ${percent(l.ci[1])}]`)}</text>`,
      );
    };
    label(m.relativeLift, m.cuped ? -1 : 4, PLAIN);
    if (m.cuped) label(m.cuped.relativeLift, 10, CUPED);
  });
  return svg(width, height, `forest plot: ${title}`, parts);
}

interface Line {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { x: number; y: number; lo?: number; hi?: number }[];
}

/** Lines over time, one per group, with their interval as a band. */
export function linePlot(title: string, lines: readonly Line[], bucketMs: number): string {
  const width = 520;
  const height = 240;
  const [left, right, top, bottom] = [56, 90, 26, 200];
  const xs = lines.flatMap((l) => l.points.map((p) => p.x));
  const ys = lines
    .flatMap((l) => l.points.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]))
    .filter(Number.isFinite);
  const parts: string[] = [`<text x="${left}" y="16">${esc(title)}</text>`];
  if (xs.length === 0) {
    parts.push(`<text x="${left}" y="${(top + bottom) / 2}" fill="#888">no requests with a time</text>`);
    return svg(width, height, title, parts);
  }
  const [x0, x1] =
    xs.length === 1 || Math.min(...xs) === Math.max(...xs)
      ? [Math.min(...xs) - bucketMs / 2, Math.max(...xs) + bucketMs / 2]
      : [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = extent([...ys, 0]);
  const x = scale(x0, x1, left, width - right);
  const y = scale(y0, y1, bottom, top);
  for (const t of ticks(y0, y1, 5)) {
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${n(y(t) + 4)}" text-anchor="end">${esc(short(t))}</text>`,
    );
  }
  const daily = bucketMs >= 86_400_000;
  const labels = [...new Set(xs)].sort((a, b) => a - b);
  const every = Math.max(1, Math.ceil(labels.length / 6));
  labels.forEach((t, i) => {
    if (i % every !== 0) return;
    const text = daily ? iso(t).slice(5, 10) : `${iso(t).slice(5, 10)} ${iso(t).slice(11, 13)}h`;
    parts.push(`<text x="${n(x(t))}" y="${bottom + 16}" text-anchor="middle">${esc(text)}</text>`);
  });
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#999"/>`,
  );
  for (const line of lines) {
    const pts = [...line.points].sort((a, b) => a.x - b.x);
    const banded = pts.filter((p) => p.lo !== undefined && p.hi !== undefined);
    if (banded.length > 1) {
      const upper = banded.map((p) => `${n(x(p.x))},${n(y(p.hi!))}`);
      const lower = banded.reverse().map((p) => `${n(x(p.x))},${n(y(p.lo!))}`);
      parts.push(
        `<polygon points="${[...upper, ...lower].join(' ')}" fill="${line.color}" fill-opacity="0.15" stroke="none"/>`,
      );
    }
    for (const p of banded.length === 1 ? banded : []) {
      parts.push(
        `<line x1="${n(x(p.x))}" x2="${n(x(p.x))}" y1="${n(y(p.lo!))}" y2="${n(y(p.hi!))}" stroke="${line.color}" stroke-opacity="0.4" stroke-width="6"/>`,
      );
    }
    if (pts.length > 1) {
      parts.push(
        `<polyline points="${pts.map((p) => `${n(x(p.x))},${n(y(p.y))}`).join(' ')}" fill="none" stroke="${line.color}" stroke-width="2"/>`,
      );
    }
    for (const p of pts)
      parts.push(`<circle cx="${n(x(p.x))}" cy="${n(y(p.y))}" r="2.5" fill="${line.color}"/>`);
  }
  parts.push(
    legend(
      width - right + 10,
      top + 4,
      lines.map((l) => [l.name, l.color]),
    ),
  );
  return svg(width, height, title, parts);
}

function seriesBlock(
  groups: readonly (Pick<ArmReport, 'arm'> & GroupSummary)[],
  report: ExperimentsReportAnswer,
  level: string,
): string {
  const bucket = report.series?.bucket ?? 'day';
  const bucketMs = report.series?.bucketMs ?? 86_400_000;
  const band = (pick: (p: SeriesPoint) => Interval | null) => (g: { series?: readonly SeriesPoint[] }) =>
    (g.series ?? []).flatMap((p) => {
      const v = pick(p);
      return v === null
        ? []
        : [{ x: p.start, y: v.mean, ...(v.ci === null ? {} : { lo: v.ci[0], hi: v.ci[1] }) }];
    });
  const plots: [string, (g: { series?: readonly SeriesPoint[] }) => Line['points']][] = [
    ['users', (g) => (g.series ?? []).map((p) => ({ x: p.start, y: p.users }))],
    [`requests/user (${level} band)`, band((p) => p.perUser.requests)],
    [`impressions/user (${level} band)`, band((p) => p.perUser.impressions)],
    [`CTR (${level} band)`, band((p) => p.ctr)],
    [`revenue/user $ (${level} band)`, band((p) => p.perUser.revenue)],
  ];
  return (
    `<h4>Per ${esc(bucket)} (UTC)</h4><div class="plots">` +
    plots
      .map(([title, points]) =>
        linePlot(
          `${title} per ${bucket}`,
          groups.map((g, i) => ({ name: g.arm, color: COLORS[i % COLORS.length], points: points(g) })),
          bucketMs,
        ),
      )
      .join('\n') +
    '</div>'
  );
}

function legend(x: number, y: number, items: readonly [string, string][]): string {
  return items
    .map(
      ([name, color], i) =>
        `<rect x="${x}" y="${y + i * 16}" width="10" height="10" fill="${color}"/>` +
        `<text x="${x + 14}" y="${y + i * 16 + 9}">${esc(name)}</text>`,
    )
    .join('');
}

function svg(width: number, height: number, label: string, parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}">${parts.join('')}</svg>`;
}

// ---- helpers -------------------------------------------------------------------------------------

/** Text for HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** [min, max] padded by 5%, never empty. */
function extent(values: readonly number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    return [lo - pad, hi + pad];
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  return [lo, hi];
}

function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** Round ticks (1, 2, 5 x 10^k) inside [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const n = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '0');
const fixed = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits));
const signed = (v: number, digits: number) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
const percent = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
const pValue = (p: number) => (p < 0.0001 ? '&lt;0.0001' : p.toFixed(4));
const iso = (ms: number) => new Date(ms).toISOString();
const short = (v: number) => (Math.abs(v) >= 1000 ? v.toExponential(1) : Number(v.toPrecision(3)).toString());
