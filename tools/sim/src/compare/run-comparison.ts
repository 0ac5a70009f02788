import { Rng } from '@adfunnel/simulator';
import { OUTCOME_FIELDS, type OutcomeField, type RequestOutcomes } from '../request-outcomes.js';
import type { RunSummary } from '../run-stats.js';

/** The parts of a run's JSON summary the comparison reads (older runs may lack perRequest). */
export type ComparedRun = Pick<
  RunSummary,
  | 'requests'
  | 'impressions'
  | 'clicks'
  | 'conversions'
  | 'hides'
  | 'revenue'
  | 'advertiserValue'
  | 'fillRate'
  | 'engagement'
  | 'oracle'
  | 'perRequest'
>;

export interface Interval {
  low: number;
  high: number;
}

/** One metric across the runs: each run's value, and each later run's difference from the first. */
export interface MetricRow {
  metric: string;
  values: (number | null)[];
  /** values[i] - values[0]; differences[0] is null. */
  differences: (number | null)[];
  /** 95% interval of differences[i]; null where the runs carry no per-request outcomes. */
  intervals: (Interval | null)[];
}

export interface Pairing {
  /** `paired`: the same request seqs in both runs (same seed), compared request by request. */
  kind: 'paired' | 'unpaired' | 'none';
  /** Requests compared in both runs (paired), or in the later run (unpaired). */
  requests: number;
}

export interface RunComparison {
  rows: MetricRow[];
  /** How each later run was set against the first; pairings[0] describes the first against itself. */
  pairings: Pairing[];
}

const Z95 = 1.959963984540054;
const BOOTSTRAP_RESAMPLES = 2000;
/** Runs pair when their common seqs cover this share of each: the same traffic, a few errors apart. */
const PAIRED_COVERAGE = 0.9;

type Totals = Record<OutcomeField, number>;

interface SumMetric {
  kind: 'sum';
  name: string;
  field: OutcomeField;
  total: (run: ComparedRun) => number;
}
interface RatioMetric {
  kind: 'ratio';
  name: string;
  scale: number;
  numerator: OutcomeField;
  denominator: OutcomeField;
}
interface SummaryMetric {
  kind: 'summary';
  name: string;
  value: (run: ComparedRun) => number | null | undefined;
}
type Metric = SumMetric | RatioMetric | SummaryMetric;

const welfare = (run: ComparedRun) => run.oracle?.welfare ?? null;

/** In the table's order; sums and ratios get intervals from per-request outcomes, the rest none. */
export const COMPARED_METRICS: readonly Metric[] = [
  { kind: 'summary', name: 'requests', value: (r) => r.requests },
  { kind: 'summary', name: 'fill rate', value: (r) => r.fillRate },
  { kind: 'sum', name: 'impressions', field: 'impressions', total: (r) => r.impressions },
  { kind: 'sum', name: 'clicks', field: 'clicks', total: (r) => r.clicks },
  { kind: 'ratio', name: 'CTR', scale: 1, numerator: 'clicks', denominator: 'impressions' },
  { kind: 'sum', name: 'conversions', field: 'conversions', total: (r) => r.conversions },
  { kind: 'sum', name: 'hides', field: 'hides', total: (r) => r.hides },
  {
    kind: 'ratio',
    name: 'hides per 1000 impressions',
    scale: 1000,
    numerator: 'hides',
    denominator: 'impressions',
  },
  { kind: 'summary', name: 'mean fatigue multiplier', value: (r) => r.engagement.meanFatigueMultiplier },
  { kind: 'sum', name: 'revenue (USD)', field: 'revenue', total: (r) => r.revenue.total },
  { kind: 'sum', name: 'advertiser value (USD)', field: 'advertiserValue', total: (r) => r.advertiserValue },
  { kind: 'summary', name: 'welfare vs oracle', value: (r) => welfare(r)?.efficiency },
  { kind: 'summary', name: '  given retrieval', value: (r) => welfare(r)?.efficiencyGivenRetrieved },
  { kind: 'summary', name: 'ranking calibration (oracle)', value: (r) => r.oracle?.ranking?.calibration },
];

/**
 * The runs side by side, the first as the baseline. Two runs of one seed are compared request by
 * request (the same seq is the same user's same visit): a sum's interval is its difference
 * +- 1.96 x sqrt(n x var(per-request difference)), a ratio's the 2.5-97.5% percentiles of a
 * paired bootstrap over requests. Runs that do not pair (other seeds) get independent intervals:
 * sqrt(n_a var_a + n_b var_b) for sums, an unpaired bootstrap for ratios. The bootstrap is seeded,
 * so the same files give the same intervals.
 */
export function compareRuns(runs: readonly ComparedRun[], seed = 1): RunComparison {
  if (runs.length < 2) throw new RangeError(`compare needs at least 2 runs, got ${runs.length}`);
  const [base, ...others] = runs;
  const pairings: Pairing[] = [{ kind: 'none', requests: base.perRequest?.seq.length ?? 0 }];
  const sets = others.map((run) => matchRequests(base.perRequest, run.perRequest));
  for (const set of sets) pairings.push(set.pairing);
  const rows = COMPARED_METRICS.map((metric): MetricRow => {
    const values = runs.map((run) => valueOf(metric, run));
    const differences = values.map((v, i) =>
      i === 0 || v === null || values[0] === null ? null : v - values[0],
    );
    const intervals = values.map((_, i) =>
      i === 0 || differences[i] === null ? null : intervalOf(metric, differences[i], sets[i - 1], seed + i),
    );
    return { metric: metric.name, values, differences, intervals };
  });
  return { rows, pairings };
}

function valueOf(metric: Metric, run: ComparedRun): number | null {
  switch (metric.kind) {
    case 'sum':
      return metric.total(run);
    case 'ratio': {
      const totals = totalsOf(run);
      return totals[metric.denominator] > 0
        ? (metric.scale * totals[metric.numerator]) / totals[metric.denominator]
        : null;
    }
    case 'summary':
      return metric.value(run) ?? null;
  }
}

function totalsOf(run: ComparedRun): Totals {
  return {
    impressions: run.impressions,
    clicks: run.clicks,
    conversions: run.conversions,
    hides: run.hides,
    revenue: run.revenue.total,
    advertiserValue: run.advertiserValue,
  };
}

interface RequestSets {
  pairing: Pairing;
  /** Paired: aligned rows; unpaired: each run's own rows. Null without per-request outcomes. */
  a: Totals[] | null;
  b: Totals[] | null;
}

export function matchRequests(a: RequestOutcomes | undefined, b: RequestOutcomes | undefined): RequestSets {
  if (a === undefined || b === undefined) return { pairing: { kind: 'none', requests: 0 }, a: null, b: null };
  const rowsOf = (o: RequestOutcomes) => {
    const rows = new Map<number, Totals>();
    o.seq.forEach((seq, i) => {
      const row = {} as Totals;
      for (const field of OUTCOME_FIELDS) row[field] = o[field][i];
      rows.set(seq, row);
    });
    return rows;
  };
  const ra = rowsOf(a);
  const rb = rowsOf(b);
  const common = [...ra.keys()].filter((seq) => rb.has(seq));
  if (common.length > 0 && common.length >= PAIRED_COVERAGE * Math.max(ra.size, rb.size)) {
    return {
      pairing: { kind: 'paired', requests: common.length },
      a: common.map((seq) => ra.get(seq)!),
      b: common.map((seq) => rb.get(seq)!),
    };
  }
  return { pairing: { kind: 'unpaired', requests: rb.size }, a: [...ra.values()], b: [...rb.values()] };
}

function intervalOf(metric: Metric, difference: number, sets: RequestSets, seed: number): Interval | null {
  const { a, b } = sets;
  if (a === null || b === null || a.length < 2 || b.length < 2 || metric.kind === 'summary') return null;
  if (metric.kind === 'sum') {
    const se =
      sets.pairing.kind === 'paired'
        ? Math.sqrt(a.length * variance(a.map((row, i) => b[i][metric.field] - row[metric.field])))
        : Math.sqrt(
            a.length * variance(a.map((r) => r[metric.field])) +
              b.length * variance(b.map((r) => r[metric.field])),
          );
    return { low: difference - Z95 * se, high: difference + Z95 * se };
  }
  return bootstrapRatioDifference(metric, a, b, sets.pairing.kind === 'paired', seed);
}

/** Percentile interval of ratio(b) - ratio(a) over resampled requests. */
export function bootstrapRatioDifference(
  metric: Pick<RatioMetric, 'scale' | 'numerator' | 'denominator'>,
  a: readonly Totals[],
  b: readonly Totals[],
  paired: boolean,
  seed: number,
  resamples = BOOTSTRAP_RESAMPLES,
): Interval | null {
  // The simulator's seeded generator: the same seed draws the same resamples.
  const random = Rng.derive(seed, 'bootstrap');
  const pick = (n: number) => random.int(n);
  const draws: number[] = [];
  for (let k = 0; k < resamples; k++) {
    let na = 0;
    let da = 0;
    let nb = 0;
    let db = 0;
    for (let j = 0; j < (paired ? a.length : Math.max(a.length, b.length)); j++) {
      const ia = pick(a.length);
      const ib = paired ? ia : pick(b.length);
      if (paired || j < a.length) {
        na += a[ia][metric.numerator];
        da += a[ia][metric.denominator];
      }
      if (paired || j < b.length) {
        nb += b[ib][metric.numerator];
        db += b[ib][metric.denominator];
      }
    }
    if (da > 0 && db > 0) draws.push(metric.scale * (nb / db - na / da));
  }
  if (draws.length < resamples / 2) return null;
  draws.sort((x, y) => x - y);
  const at = (q: number) =>
    draws[Math.min(draws.length - 1, Math.max(0, Math.round(q * (draws.length - 1))))];
  return { low: at(0.025), high: at(0.975) };
}

/** Sample variance (n - 1). */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= xs.length;
  let s = 0;
  for (const x of xs) s += (x - mean) ** 2;
  return s / (xs.length - 1);
}
