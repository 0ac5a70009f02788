import type { LoopResult } from './closed-loop.js';
import { type Interval, proportionDifference } from './loop-statistics.js';
import type { OracleFigure, SimSummary } from './sim-summary.js';

export interface LoopReport extends LoopResult {
  significance: {
    /** CTR after - CTR before (clicks / impressions), 95% interval. */
    ctrDifference: Interval;
    /** Held-out logs, the same rows: mean per-row logloss after - before, 95% interval. */
    heldOutLoglossDifference: Interval;
    /** Oracle ranking logloss after - before on the same seeded draws (same sampled requests). */
    oracleLoglossDifference: number | null;
  };
  memory: { firstRssMb: number; lastRssMb: number; maxRssMb: number; lastOverFirst: number } | null;
}

export function buildReport(result: LoopResult): LoopReport {
  const { before, after } = result;
  const rb = before.oracle?.ranking;
  const ra = after.oracle?.ranking;
  const samples = result.reloadMemory?.samples ?? [];
  return {
    ...result,
    significance: {
      ctrDifference: proportionDifference(
        { successes: before.clicks, trials: before.impressions },
        { successes: after.clicks, trials: after.impressions },
      ),
      heldOutLoglossDifference: result.heldOut.loglossDifference,
      oracleLoglossDifference: rb && ra ? ra.logloss - rb.logloss : null,
    },
    memory:
      samples.length > 0
        ? {
            firstRssMb: samples[0].rssMb,
            lastRssMb: samples[samples.length - 1].rssMb,
            maxRssMb: Math.max(...samples.map((s) => s.rssMb)),
            lastOverFirst: samples[samples.length - 1].rssMb / samples[0].rssMb,
          }
        : null,
  };
}

type Cell = number | null | undefined;
type Row = [string, Cell, Cell, (v: number) => string, OracleFigure?];
type Replay = keyof NonNullable<
  NonNullable<NonNullable<SimSummary['oracle']>['welfare']>['replayEfficiency']
>;

/** The allocation rule replayed on the retrieved ads, each step closer to the truth (tools/sim oracle). */
const REPLAYS: [string, Replay][] = [
  ['  rule replayed: model predictions', 'model'],
  ['  rule replayed: true probabilities', 'trueProbabilities'],
  ['  + bids replaced by true values', 'trueValues'],
  ['  + true examination curve', 'trueValuesTrueExamination'],
];

/** Retrieval's candidates against the oracle's best ads by true value; rows only for runs that measured it. */
function retrievalRows(b: SimSummary, a: SimSummary): Row[] {
  if (b.oracle?.retrieval === undefined && a.oracle?.retrieval === undefined) return [];
  const k = b.oracle?.retrieval?.k ?? a.oracle?.retrieval?.k ?? 0;
  return [
    [
      `retrieval recall of oracle best ${k}`,
      b.oracle?.retrieval?.recall,
      a.oracle?.retrieval?.recall,
      percent,
      'retrieval',
    ],
    [
      '  of its top 10',
      b.oracle?.retrieval?.recallAt10,
      a.oracle?.retrieval?.recallAt10,
      percent,
      'retrieval',
    ],
  ];
}

/**
 * Predicted / observed logged clicks per surface (logging's monitor, position accounted for): the
 * model's own pCTR, then as served after ranking's calibration stage, on the impressions it calibrated.
 */
function calibrationRows(b: SimSummary, a: SimSummary): Row[] {
  const surfaces = [...new Set([b, a].flatMap((s) => s.calibration?.bySurface.map((c) => c.surface) ?? []))];
  if (surfaces.length === 0) return [];
  const of = (s: SimSummary, surface: string) => s.calibration?.bySurface.find((c) => c.surface === surface);
  return [
    ['calibrated impressions', b.calibration?.calibratedShare, a.calibration?.calibratedShare, percent],
    ...surfaces.flatMap((surface): Row[] => [
      [`${surface}: model / clicks`, of(b, surface)?.model, of(a, surface)?.model, fixed(3)],
      [`  calibrated: model`, of(b, surface)?.calibrated.model, of(a, surface)?.calibrated.model, fixed(3)],
      [
        `  calibrated: served`,
        of(b, surface)?.calibrated.served,
        of(a, surface)?.calibrated.served,
        fixed(3),
      ],
    ]),
  ];
}

export function formatReport(report: LoopReport): string {
  const { before: b, after: a } = report;
  const rows: Row[] = [
    ['requests', b.requests, a.requests, int],
    ['errors', b.errors, a.errors, int],
    ['fill rate', b.fillRate, a.fillRate, percent],
    ['degraded share', b.degradedShare, a.degradedShare, percent],
    ['impressions', b.impressions, a.impressions, int],
    ['clicks', b.clicks, a.clicks, int],
    ['CTR (clicks / impressions)', b.ctr, a.ctr, percent],
    ['conversions', b.conversions, a.conversions, int],
    ['CVR (conversions / clicks)', b.cvr, a.cvr, percent],
    ['revenue (USD)', b.revenue.total, a.revenue.total, usd],
    ['advertiser value (USD)', b.advertiserValue, a.advertiserValue, usd],
    ...retrievalRows(b, a),
    ['ranking logloss (oracle draws)', rank(b)?.logloss, rank(a)?.logloss, fixed(5), 'ranking'],
    ['  Bayes floor (same draws)', rank(b)?.bayesLogloss, rank(a)?.bayesLogloss, fixed(5), 'ranking'],
    ['  gap to the floor', gap(b), gap(a), fixed(5), 'ranking'],
    [
      'ranking cross-entropy vs true p',
      rank(b)?.expectedLogloss,
      rank(a)?.expectedLogloss,
      fixed(5),
      'ranking',
    ],
    [
      '  entropy of true p (floor)',
      rank(b)?.expectedBayesLogloss,
      rank(a)?.expectedBayesLogloss,
      fixed(5),
      'ranking',
    ],
    ['ranking AUC (oracle draws)', rank(b)?.auc, rank(a)?.auc, fixed(4), 'auc'],
    ['  Bayes AUC', rank(b)?.bayesAuc, rank(a)?.bayesAuc, fixed(4), 'auc'],
    ['ranking calibration', rank(b)?.calibration, rank(a)?.calibration, fixed(3), 'ranking'],
    [
      'welfare vs oracle (efficiency)',
      b.oracle?.welfare?.efficiency,
      a.oracle?.welfare?.efficiency,
      percent,
      'efficiency',
    ],
    [
      '  given retrieved candidates',
      b.oracle?.welfare?.efficiencyGivenRetrieved,
      a.oracle?.welfare?.efficiencyGivenRetrieved,
      percent,
      'efficiency',
    ],
    ...((b.oracle?.welfare?.replayEfficiency ?? a.oracle?.welfare?.replayEfficiency) ? REPLAYS : []).map(
      ([name, key]): Row => [
        name,
        b.oracle?.welfare?.replayEfficiency?.[key],
        a.oracle?.welfare?.replayEfficiency?.[key],
        percent,
        'efficiency',
      ],
    ),
    ...calibrationRows(b, a),
    ['held-out logs: logloss', report.heldOut.before.logloss, report.heldOut.after.logloss, fixed(5)],
    ['held-out logs: AUC', report.heldOut.before.auc, report.heldOut.after.auc, fixed(4)],
  ];
  const header = [
    '',
    `before (${report.startModel} ${report.coldStart})`,
    `after (${report.trained})`,
    'change',
  ];
  const missing = new MissingFigures();
  const cell = (v: Cell, f: (v: number) => string, phase: 'before' | 'after', figure?: OracleFigure) => {
    if (typeof v === 'number') return f(v);
    if (figure === undefined) return 'n/a';
    missing.add(phase, figure, report[phase]);
    return 'n/a (see below)';
  };
  const body = rows.map(([name, x, y, f, figure]) => [
    name,
    cell(x, f, 'before', figure),
    cell(y, f, 'after', figure),
    typeof x === 'number' && typeof y === 'number' ? signed(y - x, f) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const s = report.significance;
  const out = [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    ...missing.lines(),
    ...(['before', 'after'] as const).flatMap((phase) =>
      (report[phase].oracle?.warnings ?? []).map((w) => `WARNING: ${phase}: ${w}`),
    ),
    '',
    `CTR change ${pp(s.ctrDifference.estimate)}, 95% CI [${pp(s.ctrDifference.low)}, ${pp(s.ctrDifference.high)}]`,
    `held-out logloss change (paired, ${report.heldOut.rows} rows) ${s.heldOutLoglossDifference.estimate.toFixed(5)}, ` +
      `95% CI [${s.heldOutLoglossDifference.low.toFixed(5)}, ${s.heldOutLoglossDifference.high.toFixed(5)}]`,
    `training data: ${report.export.train.rows} rows (${report.export.train.clicks} clicks) from ${report.export.read} served ads; ` +
      `training ${report.training.seconds} s; hot reload ${report.deploy.ms} ms`,
    report.training.initFrom === null
      ? `ranking: trained from scratch${report.training.scratchReason ? ` (${report.training.scratchReason})` : ''}`
      : `ranking: fine-tuned from the weights of ranking@${report.training.initFrom}, the model that served before`,
  ];
  const rt = report.retrieval;
  const recall = (name: string) =>
    ['10', '100', '200'].map((k) => `@${k} ${rt.recallAtK[name]?.[k]?.toFixed(3) ?? 'n/a'}`).join(' ');
  out.push(
    rt.deploy === null
      ? `retrieval: the activity heuristic in both runs; two-tower retrieval@${rt.version} (trained on ` +
          `${rt.export.clicks} clicks of ${rt.export.rows} served ads, ${rt.export.withActivity} with activity, in ${rt.seconds} s) ` +
          `not deployed: ${rt.skipped ?? 'it lost to the heuristic offline'}`
      : `retrieval: before the activity heuristic, after two-tower retrieval@${rt.version} (trained on ` +
          `${rt.export.clicks} clicks of ${rt.export.rows} served ads, ${rt.export.withActivity} with activity, in ${rt.seconds} s; swap ${rt.deploy.ms} ms)`,
    `  held-out recall (latest ${rt.heldOutClicks} clicks): model ${recall('model')}; most popular ${recall('popular')}; ` +
      `heuristic ${recall('heuristic')}`,
  );
  if (report.memory && report.reloadMemory) {
    out.push(
      `ranking RSS across ${report.reloadMemory.samples.length} reloads: baseline ${report.reloadMemory.baselineRssMb.toFixed(0)} MB, ` +
        report.reloadMemory.samples.map((m) => m.rssMb.toFixed(0)).join(' ') +
        ` MB; last/first ${report.memory.lastOverFirst.toFixed(3)}, max ${report.memory.maxRssMb.toFixed(0)} MB`,
    );
  }
  out.push(`wall time ${report.wallSeconds.toFixed(0)} s`);
  return out.join('\n');
}

function rank(s: SimSummary) {
  return s.oracle?.ranking ?? undefined;
}

function gap(s: SimSummary): number | undefined {
  const r = rank(s);
  return r ? r.logloss - r.bayesLogloss : undefined;
}

const FIGURE_GROUP: Partial<Record<OracleFigure, OracleFigure>> = { auc: 'ranking', efficiency: 'welfare' };

/** The reasons behind the table's oracle n/a cells, one line per phase and reason. */
class MissingFigures {
  private readonly byPhase = {
    before: new Map<string, Set<OracleFigure>>(),
    after: new Map<string, Set<OracleFigure>>(),
  };

  add(phase: 'before' | 'after', figure: OracleFigure, s: SimSummary): void {
    const reasons = this.byPhase[phase];
    const reason = reasonFor(s, figure);
    reasons.set(reason, (reasons.get(reason) ?? new Set<OracleFigure>()).add(figure));
  }

  lines(): string[] {
    const lines = (['before', 'after'] as const).flatMap((phase) =>
      [...this.byPhase[phase]].map(
        ([reason, figures]) => `  ${phase} (${[...figures].join(', ')}): ${reason}`,
      ),
    );
    return lines.length === 0 ? [] : ['', 'WARNING: oracle figures missing (n/a above):', ...lines];
  }
}

function reasonFor(s: SimSummary, figure: OracleFigure): string {
  if (s.oracle === null) return 'the simulator ran without the oracle (no --oracle-sample)';
  const group = FIGURE_GROUP[figure];
  return (
    s.oracle.missing[figure] ??
    (group === undefined ? undefined : s.oracle.missing[group]) ??
    'the simulator gave no reason'
  );
}

function signed(d: number, f: (v: number) => string): string {
  const text = f === percent ? pp(d) : f(d);
  return d > 0 && !text.startsWith('+') ? `+${text}` : text;
}

const int = (v: number) => String(Math.round(v));
const usd = (v: number) => v.toFixed(2);
const percent = (v: number) => `${(v * 100).toFixed(2)}%`;
const fixed = (digits: number) => (v: number) => v.toFixed(digits);

function pp(v: number): string {
  return `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)} pp`;
}
