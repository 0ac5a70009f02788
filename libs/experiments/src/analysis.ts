/**
 * The per-arm analysis: from one row per served request (its experiment label, its user, what its ads
 * got: impressions, clicks, hides, conversions, the ledger's charges) to a table per layer and arm with
 * the user as the unit, each treatment arm against its experiment's control, the sample-ratio check of
 * every layer and the holdout against everyone else. Pure: the rows come from the caller.
 */
import { z } from 'zod';
import {
  BUCKETS,
  type ExperimentConfig,
  type RandomizationUnit,
  RandomizationUnitSchema,
} from './experiment-config.js';
import { parseAssignmentLabel } from './assignment.js';
import {
  type Comparison,
  compareMeans,
  compareMeansCuped,
  compareRatiosCuped,
  normalQuantile,
  ratioEstimate,
  relativeLift,
  sampleRatioMismatch,
  zComparison,
} from './statistics.js';

/** One served ad request (every slot of it), as the analysis reads it. */
export interface ExperimentRequestRow {
  readonly requestId: string;
  readonly userId: string;
  /** served_ads.experiment_arms: `layer:experiment/arm,...`, `holdout`, or `` (no layer assigned it). */
  readonly label: string;
  /** Ads served in the answer. */
  readonly ads: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly conversions: number;
  readonly hides: number;
  /** What the ledger charged for the request's events, USD. */
  readonly revenue: number;
  /** The request's outcomes at the advertisers' bids (CPM impression bid / 1000, CPC click, CPA conversion), USD. */
  readonly advertiserValue: number;
  /** When it was served (epoch ms): its bucket in the per-day (or per-hour) series; rows without it are in no bucket. */
  readonly servedAt?: number;
}

/** The configured shares the sample-ratio checks compare with (sharesOfConfig builds it from a config). */
export interface ArmShares {
  /** Share of users held out (0 when the config has no holdout). */
  readonly holdout: number;
  readonly layers: readonly {
    readonly name: string;
    readonly unit: RandomizationUnit;
    /** In config order: the order the arms lie over the buckets, control first where the config says so. */
    readonly arms: readonly { readonly experiment: string; readonly arm: string; readonly share: number }[];
  }[];
}

/** ArmShares as JSON (the report's `shares` query parameter). */
export const ArmSharesSchema = z.strictObject({
  holdout: z.number().min(0).max(0.5),
  layers: z.array(
    z.strictObject({
      name: z.string().min(1),
      unit: RandomizationUnitSchema,
      arms: z.array(
        z.strictObject({
          experiment: z.string().min(1),
          arm: z.string().min(1),
          share: z.number().gt(0).max(1),
        }),
      ),
    }),
  ),
});

export function sharesOfConfig(config: ExperimentConfig): ArmShares {
  return {
    holdout: config.holdout?.share ?? 0,
    layers: config.layers.map((layer) => ({
      name: layer.name,
      unit: layer.unit,
      arms: layer.experiments.flatMap((e) =>
        e.arms.map((a) => ({ experiment: e.name, arm: a.name, share: a.share })),
      ),
    })),
  };
}

/** Per-unit means compared by Welch; ratios of sums by the delta method. */
export const MEAN_METRICS = [
  'requests',
  'impressions',
  'clicks',
  'conversions',
  'revenue',
  'advertiserValue',
] as const;
export const RATIO_METRICS = {
  /** clicks / impressions */
  ctr: { numerator: 'clicks', denominator: 'impressions', scale: 1 },
  /** conversions / clicks */
  cvr: { numerator: 'conversions', denominator: 'clicks', scale: 1 },
  /** hides per 1000 impressions */
  hidesPerMille: { numerator: 'hides', denominator: 'impressions', scale: 1000 },
  /** revenue (USD) per 1000 impressions */
  revenuePerMille: { numerator: 'revenue', denominator: 'impressions', scale: 1000 },
} as const;
export type MeanMetric = (typeof MEAN_METRICS)[number];
export type RatioMetric = keyof typeof RATIO_METRICS;
export type Metric = MeanMetric | RatioMetric;

type Counted = Exclude<keyof ExperimentRequestRow, 'requestId' | 'userId' | 'label' | 'servedAt'>;
const COUNTED: readonly Counted[] = [
  'ads',
  'impressions',
  'clicks',
  'conversions',
  'hides',
  'revenue',
  'advertiserValue',
];

/** Sums over a group's requests. */
export interface Totals {
  users: number;
  requests: number;
  ads: number;
  impressions: number;
  clicks: number;
  conversions: number;
  hides: number;
  revenue: number;
  advertiserValue: number;
}

/** The series' buckets: UTC hours or UTC days of the requests' servedAt. */
export const SERIES_BUCKETS = { hour: 3_600_000, day: 86_400_000 } as const;
export type SeriesBucket = keyof typeof SERIES_BUCKETS;

/** A mean with its normal-approximation interval at the report's level (null with fewer than 2 units). */
export interface Interval {
  readonly mean: number;
  readonly ci: readonly [number, number] | null;
}

/** One bucket of a group's series, the user as the unit within the bucket (a user counts in each bucket they were served in). */
export interface SeriesPoint {
  /** The bucket's start, epoch ms (UTC midnight or hour). */
  readonly start: number;
  readonly users: number;
  readonly requests: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly revenue: number;
  /** Per user served in the bucket. */
  readonly perUser: {
    readonly requests: Interval;
    readonly impressions: Interval;
    readonly clicks: Interval;
    readonly revenue: Interval;
  };
  /** clicks / impressions, the interval by the delta method; null without impressions. */
  readonly ctr: Interval | null;
}

/** One arm's (or the holdout's) totals and metrics, the metrics null where undefined (no impressions). */
export interface GroupSummary {
  readonly totals: Totals;
  /** Per user: requests, impressions, clicks, conversions, revenue, advertiserValue. */
  readonly perUser: Record<MeanMetric, number | null>;
  readonly ctr: number | null;
  readonly cvr: number | null;
  readonly hidesPerMille: number | null;
  readonly revenuePerMille: number | null;
  /** Per bucket (ExperimentAnalysis.series.bucket) in time order, the buckets with requests only. */
  readonly series: readonly SeriesPoint[];
}

/** The CUPED-adjusted comparison of a metric, next to the plain one (MetricComparison.difference). */
export interface CupedMetricComparison {
  /** The arms' adjusted means (ratios): each less theta times its covariate's distance from the pooled mean. */
  readonly control: number;
  readonly treatment: number;
  readonly difference: Comparison;
  readonly relativeLift: Comparison | null;
  /** cov(pre, metric) / var(pre), both arms pooled (of the linearized ratios for a ratio metric). */
  readonly theta: number;
  /** rho(pre, metric), both arms pooled. */
  readonly correlation: number;
  /** 1 - Var(adjusted) / Var(plain). */
  readonly varianceReduction: number;
  /** The adjusted interval's width over the plain one's (below 1: narrower). */
  readonly ciWidthRatio: number;
  /** Users of each arm with a request in the pre-period; the others' covariate is 0. */
  readonly usersWithPrePeriod: { readonly control: number; readonly treatment: number };
}

export interface MetricComparison {
  readonly metric: Metric;
  /** `perUser` for a Welch mean per user, `ratio` for a delta-method ratio of sums. */
  readonly kind: 'perUser' | 'ratio';
  readonly control: number | null;
  readonly treatment: number | null;
  /** treatment - control, CI at the report's level; null with `unavailable` when it cannot be estimated. */
  readonly difference: Comparison | null;
  /** treatment / control - 1; null when the control is 0 or the difference unavailable. */
  readonly relativeLift: Comparison | null;
  readonly unavailable?: string;
  /** With a pre-period (AnalysisOptions.preRows): the CUPED comparison; null with `cupedUnavailable` when it cannot be made. */
  readonly cuped?: CupedMetricComparison | null;
  readonly cupedUnavailable?: string;
}

export interface ArmComparison {
  readonly arm: string;
  readonly control: string;
  readonly metrics: readonly MetricComparison[];
}

export interface ArmReport extends GroupSummary {
  readonly arm: string;
  /** The configured share, when the shares are known. */
  readonly share: number | null;
}

export interface ExperimentReport {
  readonly name: string;
  /** The arm named `control`, else the first arm (config order when the shares are known, else by name). */
  readonly control: string;
  readonly arms: readonly ArmReport[];
  readonly comparisons: readonly ArmComparison[];
}

export interface SrmReport {
  /** What was counted: distinct users (user-randomized layers, the holdout) or requests. */
  readonly unit: RandomizationUnit;
  /** `experiment/arm` (and `(unassigned)` for a layer's traffic outside every arm, `holdout`/`rest`). */
  readonly groups: readonly string[];
  readonly counts: readonly number[];
  readonly shares: readonly number[];
  readonly expected: readonly number[];
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
  readonly mismatch: boolean;
}

export interface LayerReport {
  readonly name: string;
  readonly experiments: readonly ExperimentReport[];
  /** Users outside the holdout with no arm in this layer. */
  readonly unassignedUsers: number;
  /** Users seen in more than one arm of this layer (a request-randomized layer, or a reassignment by a reload). */
  readonly usersInSeveralArms: number;
  /** Against the configured shares; null with `srmUnavailable` when they are not known. */
  readonly srm: SrmReport | null;
  readonly srmUnavailable?: string;
}

export interface HoldoutReport {
  readonly holdout: GroupSummary;
  /** Every labelled user outside the holdout (in an arm or not). */
  readonly rest: GroupSummary;
  /** rest against holdout: the launches' and experiments' effect together. */
  readonly comparison: readonly MetricComparison[];
  readonly srm: SrmReport | null;
  readonly srmUnavailable?: string;
}

export interface ExperimentAnalysis {
  readonly unit: 'user';
  readonly level: number;
  readonly totals: Totals;
  /** Rows whose label parseAssignmentLabel refused: left out. */
  readonly unreadableLabels: number;
  readonly layers: readonly LayerReport[];
  readonly holdout: HoldoutReport;
  readonly srmThreshold: number;
  /** The groups' series: the bucket, and the rows left out of it for want of a servedAt. */
  readonly series: {
    readonly bucket: SeriesBucket;
    readonly bucketMs: number;
    readonly rowsWithoutTime: number;
  };
  /** With a pre-period: its requests read and their distinct users (every label, the holdout's too); else null. */
  readonly cuped: { readonly preRequests: number; readonly preUsers: number } | null;
}

export interface AnalysisOptions {
  readonly shares?: ArmShares;
  /** Confidence level of the intervals, default 0.95. */
  readonly level?: number;
  /** Sample-ratio mismatch flagged below this p-value, default 0.001. */
  readonly srmThreshold?: number;
  /**
   * The pre-period's requests (before the window, whatever their label then): each user's sums over
   * them are the CUPED covariate of the same per-user metric (0 for a user with none); given, every
   * comparison carries its `cuped` counterpart.
   */
  readonly preRows?: readonly ExperimentRequestRow[];
  /** The series' bucket, default day. */
  readonly bucket?: SeriesBucket;
}

type UserSums = Record<Counted | 'requests', number>;
const zeroSums = (): UserSums => ({
  requests: 0,
  ads: 0,
  impressions: 0,
  clicks: 0,
  conversions: 0,
  hides: 0,
  revenue: 0,
  advertiserValue: 0,
});
const NO_PRE: UserSums = zeroSums();

/** Per-user sums of one group's requests. */
class Group {
  readonly users = new Map<string, UserSums>();
  /** bucket start -> user -> sums */
  readonly buckets = new Map<number, Map<string, UserSums>>();
  requests = 0;

  constructor(
    private readonly bucketMs: number = SERIES_BUCKETS.day,
    private readonly level = 0.95,
  ) {}

  add(row: ExperimentRequestRow): void {
    addTo(this.users, row);
    this.requests += 1;
    if (row.servedAt !== undefined && Number.isFinite(row.servedAt)) {
      const start = Math.floor(row.servedAt / this.bucketMs) * this.bucketMs;
      let bucket = this.buckets.get(start);
      if (bucket === undefined) {
        bucket = new Map();
        this.buckets.set(start, bucket);
      }
      addTo(bucket, row);
    }
  }

  series(): SeriesPoint[] {
    const q = normalQuantile(1 - (1 - this.level) / 2);
    const interval = (values: number[]): Interval => {
      const n = values.length;
      const m = values.reduce((s, v) => s + v, 0) / n;
      if (n < 2) return { mean: m, ci: null };
      const variance = values.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1);
      const half = q * Math.sqrt(variance / n);
      return { mean: m, ci: [m - half, m + half] };
    };
    return [...this.buckets.keys()]
      .sort((a, b) => a - b)
      .map((start) => {
        const users = [...this.buckets.get(start)!.values()];
        const col = (key: Counted | 'requests') => users.map((u) => u[key]);
        const sum = (key: Counted | 'requests') => users.reduce((s, u) => s + u[key], 0);
        const impressions = sum('impressions');
        let ctr: Interval | null = null;
        if (impressions > 0) {
          if (users.length < 2) ctr = { mean: sum('clicks') / impressions, ci: null };
          else {
            const r = ratioEstimate(col('clicks'), col('impressions'));
            const half = q * Math.sqrt(r.variance);
            ctr = { mean: r.ratio, ci: [r.ratio - half, r.ratio + half] };
          }
        }
        return {
          start,
          users: users.length,
          requests: sum('requests'),
          impressions,
          clicks: sum('clicks'),
          revenue: sum('revenue'),
          perUser: {
            requests: interval(col('requests')),
            impressions: interval(col('impressions')),
            clicks: interval(col('clicks')),
            revenue: interval(col('revenue')),
          },
          ctr,
        };
      });
  }

  column(key: Counted | 'requests'): number[] {
    return Array.from(this.users.values(), (u) => u[key]);
  }

  totals(): Totals {
    const totals: Totals = {
      users: this.users.size,
      requests: this.requests,
      ads: 0,
      impressions: 0,
      clicks: 0,
      conversions: 0,
      hides: 0,
      revenue: 0,
      advertiserValue: 0,
    };
    for (const u of this.users.values()) for (const key of COUNTED) totals[key] += u[key];
    return totals;
  }

  summary(): GroupSummary {
    const t = this.totals();
    const ratio = (m: RatioMetric) => {
      const { numerator, denominator, scale } = RATIO_METRICS[m];
      return t[denominator] > 0 ? (scale * t[numerator]) / t[denominator] : null;
    };
    const perUser = Object.fromEntries(
      MEAN_METRICS.map((m) => [m, t.users > 0 ? t[m] / t.users : null]),
    ) as Record<MeanMetric, number | null>;
    return {
      totals: t,
      perUser,
      ctr: ratio('ctr'),
      cvr: ratio('cvr'),
      hidesPerMille: ratio('hidesPerMille'),
      revenuePerMille: ratio('revenuePerMille'),
      series: this.series(),
    };
  }
}

function addTo(users: Map<string, UserSums>, row: ExperimentRequestRow): void {
  let user = users.get(row.userId);
  if (user === undefined) {
    user = zeroSums();
    users.set(row.userId, user);
  }
  user.requests += 1;
  for (const key of COUNTED) user[key] += row[key];
}

/** The pre-period's per-user sums: the CUPED covariates. */
type PrePeriod = ReadonlyMap<string, UserSums>;

/** A's CI width over b's. */
const widthRatio = (adjusted: Comparison, plain: Comparison) => {
  const w = plain.ci[1] - plain.ci[0];
  return w > 0 ? (adjusted.ci[1] - adjusted.ci[0]) / w : adjusted.ci[1] - adjusted.ci[0] > 0 ? Infinity : 1;
};

function coverage(control: Group, treatment: Group, pre: PrePeriod) {
  const covered = (g: Group) => [...g.users.keys()].filter((u) => pre.has(u)).length;
  return { control: covered(control), treatment: covered(treatment) };
}

/** The CUPED counterpart of a per-user mean's plain comparison. */
function cupedMean(
  metric: MeanMetric,
  control: Group,
  treatment: Group,
  pre: PrePeriod,
  plain: Comparison,
  level: number,
): Pick<MetricComparison, 'cuped' | 'cupedUnavailable'> {
  const arm = (g: Group) => ({
    y: g.column(metric),
    x: [...g.users.keys()].map((u) => (pre.get(u) ?? NO_PRE)[metric]),
  });
  const a = arm(control);
  const b = arm(treatment);
  const covered = coverage(control, treatment, pre);
  if (covered.control + covered.treatment === 0) {
    return { cuped: null, cupedUnavailable: 'no user of either arm has a request in the pre-period' };
  }
  // As for the plain comparison: both arms shifted by 1 when the control's mean is 0 (the same difference), no lift.
  const zeroControl = a.y.reduce((s, v) => s + v, 0) === 0;
  const shift = (arm: { x: number[]; y: number[] }) =>
    zeroControl ? { ...arm, y: arm.y.map((v) => v + 1) } : arm;
  const c = compareMeansCuped(shift(a), shift(b), level);
  return {
    cuped: {
      control: c.control.mean - (zeroControl ? 1 : 0),
      treatment: c.treatment.mean - (zeroControl ? 1 : 0),
      difference: c.difference,
      relativeLift: zeroControl || c.control.mean === 0 ? null : c.relativeLift,
      theta: c.theta,
      correlation: c.correlation,
      varianceReduction: c.varianceReduction,
      ciWidthRatio: widthRatio(c.difference, plain),
      usersWithPrePeriod: covered,
    },
  };
}

/** The CUPED counterpart of a ratio's plain comparison (compareRatiosCuped). */
function cupedRatio(
  metric: RatioMetric,
  control: Group,
  treatment: Group,
  pre: PrePeriod,
  plain: Comparison,
  level: number,
): Pick<MetricComparison, 'cuped' | 'cupedUnavailable'> {
  const { numerator, denominator, scale } = RATIO_METRICS[metric];
  const arm = (g: Group) => {
    const users = [...g.users.entries()];
    return {
      x: users.map(([, s]) => scale * s[numerator]),
      y: users.map(([, s]) => s[denominator]),
      xPre: users.map(([u]) => scale * (pre.get(u) ?? NO_PRE)[numerator]),
      yPre: users.map(([u]) => (pre.get(u) ?? NO_PRE)[denominator]),
    };
  };
  const a = arm(control);
  const b = arm(treatment);
  const covered = coverage(control, treatment, pre);
  if (a.yPre.every((v) => v === 0) || b.yPre.every((v) => v === 0)) {
    return { cuped: null, cupedUnavailable: `no pre-period ${denominator} in an arm` };
  }
  const c = compareRatiosCuped(a, b, level);
  return {
    cuped: {
      control: c.control,
      treatment: c.treatment,
      difference: c.difference,
      relativeLift: c.relativeLift,
      theta: c.theta,
      correlation: c.correlation,
      varianceReduction: c.varianceReduction,
      ciWidthRatio: widthRatio(c.difference, plain),
      usersWithPrePeriod: covered,
    },
  };
}

/** treatment against control on every metric, user as the unit. */
function compareGroups(control: Group, treatment: Group, level: number, pre?: PrePeriod): MetricComparison[] {
  const out: MetricComparison[] = [];
  const few = control.users.size < 2 || treatment.users.size < 2;
  for (const metric of MEAN_METRICS) {
    const a = control.column(metric);
    const b = treatment.column(metric);
    const meanOf = (v: number[]) => (v.length === 0 ? null : v.reduce((s, x) => s + x, 0) / v.length);
    if (few) {
      out.push(unavailable(metric, 'perUser', meanOf(a), meanOf(b), 'fewer than 2 users in an arm', pre));
      continue;
    }
    const controlMean = meanOf(a)!;
    // Welch's difference is the same for both arms shifted by 1; compareMeans refuses a lift on a 0 mean.
    const c =
      controlMean === 0
        ? compareMeans(
            a.map((x) => x + 1),
            b.map((x) => x + 1),
            level,
          )
        : compareMeans(a, b, level);
    out.push({
      metric,
      kind: 'perUser',
      control: controlMean,
      treatment: meanOf(b),
      difference: c.difference,
      relativeLift: controlMean === 0 ? null : c.relativeLift,
      ...(pre === undefined ? {} : cupedMean(metric, control, treatment, pre, c.difference, level)),
    });
  }
  for (const [metric, { numerator, denominator, scale }] of Object.entries(RATIO_METRICS) as [
    RatioMetric,
    (typeof RATIO_METRICS)[RatioMetric],
  ][]) {
    const scaled = (g: Group) => g.column(numerator).map((x) => scale * x);
    const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);
    const point = (g: Group) => {
      const d = sum(g.column(denominator));
      return d > 0 ? sum(scaled(g)) / d : null;
    };
    const pa = point(control);
    const pb = point(treatment);
    if (few) {
      out.push(unavailable(metric, 'ratio', pa, pb, 'fewer than 2 users in an arm', pre));
      continue;
    }
    if (pa === null || pb === null) {
      out.push(unavailable(metric, 'ratio', pa, pb, `no ${denominator} in an arm`, pre));
      continue;
    }
    const ra = ratioEstimate(scaled(control), control.column(denominator));
    const rb = ratioEstimate(scaled(treatment), treatment.column(denominator));
    // compareRatios, less its lift when the control's ratio is 0.
    const difference = zComparison(rb.ratio - ra.ratio, Math.sqrt(ra.variance + rb.variance), level);
    out.push({
      metric,
      kind: 'ratio',
      control: ra.ratio,
      treatment: rb.ratio,
      difference,
      relativeLift: ra.ratio === 0 ? null : relativeLift(ra.ratio, ra.variance, rb.ratio, rb.variance, level),
      ...(pre === undefined ? {} : cupedRatio(metric, control, treatment, pre, difference, level)),
    });
  }
  return out;
}

function unavailable(
  metric: Metric,
  kind: 'perUser' | 'ratio',
  control: number | null,
  treatment: number | null,
  reason: string,
  pre?: PrePeriod,
): MetricComparison {
  return {
    metric,
    kind,
    control,
    treatment,
    difference: null,
    relativeLift: null,
    unavailable: reason,
    ...(pre === undefined ? {} : { cuped: null, cupedUnavailable: reason }),
  };
}

function srm(
  unit: RandomizationUnit,
  groups: string[],
  counts: number[],
  shares: number[],
  threshold: number,
): SrmReport | string {
  const kept = shares.map((_, i) => i).filter((i) => shares[i] > 0);
  if (kept.length < 2) return 'fewer than 2 groups with a share';
  const total = kept.reduce((s, i) => s + counts[i], 0);
  if (total === 0) return 'no units';
  const check = sampleRatioMismatch(
    kept.map((i) => counts[i]),
    kept.map((i) => shares[i]),
    threshold,
  );
  return {
    unit,
    groups: kept.map((i) => groups[i]),
    counts: kept.map((i) => counts[i]),
    shares: kept.map((i) => shares[i]),
    expected: check.expected,
    statistic: check.statistic,
    df: check.df,
    pValue: check.pValue,
    mismatch: check.mismatch,
  };
}

/** Whole buckets, so that 1 - (0.1 + 0.2) is 0.7 and not 0.7000000000000001. */
const remainder = (shares: readonly number[]) =>
  Math.max(0, BUCKETS - shares.reduce((s, x) => s + Math.round(x * BUCKETS), 0)) / BUCKETS;

export function analyzeExperiments(
  rows: readonly ExperimentRequestRow[],
  { shares, level = 0.95, srmThreshold = 0.001, preRows, bucket = 'day' }: AnalysisOptions = {},
): ExperimentAnalysis {
  const bucketMs = SERIES_BUCKETS[bucket];
  if (bucketMs === undefined) throw new RangeError(`bucket must be hour or day, got "${String(bucket)}"`);
  const newGroup = () => new Group(bucketMs, level);
  const all = newGroup();
  const holdout = newGroup();
  const rest = newGroup();
  let pre: Map<string, UserSums> | undefined;
  if (preRows !== undefined) {
    pre = new Map();
    for (const row of preRows) addTo(pre, row);
  }
  let rowsWithoutTime = 0;
  /** layer -> experiment -> arm -> group */
  const arms = new Map<string, Map<string, Map<string, Group>>>();
  /** layer -> requests per arm key (request-unit SRM) */
  const armRequests = new Map<string, Map<string, number>>();
  /** layer -> user -> arm keys */
  const userArms = new Map<string, Map<string, Set<string>>>();
  let unreadableLabels = 0;

  const layerNames: string[] = [];
  const ensureLayer = (name: string) => {
    if (!arms.has(name)) {
      arms.set(name, new Map());
      armRequests.set(name, new Map());
      userArms.set(name, new Map());
      layerNames.push(name);
    }
    return arms.get(name)!;
  };
  for (const layer of shares?.layers ?? []) {
    const experiments = ensureLayer(layer.name);
    for (const a of layer.arms) {
      if (!experiments.has(a.experiment)) experiments.set(a.experiment, new Map());
      if (!experiments.get(a.experiment)!.has(a.arm)) experiments.get(a.experiment)!.set(a.arm, newGroup());
    }
  }

  for (const row of rows) {
    let parsed: ReturnType<typeof parseAssignmentLabel>;
    try {
      parsed = parseAssignmentLabel(row.label);
    } catch {
      unreadableLabels += 1;
      continue;
    }
    all.add(row);
    if (row.servedAt === undefined || !Number.isFinite(row.servedAt)) rowsWithoutTime += 1;
    if (parsed.holdout) {
      holdout.add(row);
      continue;
    }
    rest.add(row);
    for (const { layer, experiment, arm } of parsed.arms) {
      const experiments = ensureLayer(layer);
      if (!experiments.has(experiment)) experiments.set(experiment, new Map());
      const byArm = experiments.get(experiment)!;
      if (!byArm.has(arm)) byArm.set(arm, newGroup());
      byArm.get(arm)!.add(row);
      const key = `${experiment}/${arm}`;
      const requests = armRequests.get(layer)!;
      requests.set(key, (requests.get(key) ?? 0) + 1);
      const users = userArms.get(layer)!;
      if (!users.has(row.userId)) users.set(row.userId, new Set());
      users.get(row.userId)!.add(key);
    }
  }

  const restUsers = rest.users.size;
  const layers: LayerReport[] = layerNames.map((layerName) => {
    const configured = shares?.layers.find((l) => l.name === layerName);
    const experiments = arms.get(layerName)!;
    const shareOf = (experiment: string, arm: string) =>
      configured?.arms.find((a) => a.experiment === experiment && a.arm === arm)?.share ?? null;
    const experimentReports: ExperimentReport[] = [...experiments].map(([name, byArm]) => {
      const order = configured
        ? [
            ...configured.arms.filter((a) => a.experiment === name).map((a) => a.arm),
            ...[...byArm.keys()]
              .filter((a) => !configured.arms.some((c) => c.experiment === name && c.arm === a))
              .sort(),
          ]
        : [...byArm.keys()].sort();
      const control = order.includes('control') ? 'control' : order[0];
      return {
        name,
        control,
        arms: order.map((arm) => ({ arm, share: shareOf(name, arm), ...byArm.get(arm)!.summary() })),
        comparisons: order
          .filter((arm) => arm !== control)
          .map((arm) => ({
            arm,
            control,
            metrics: compareGroups(byArm.get(control)!, byArm.get(arm)!, level, pre),
          })),
      };
    });
    const users = userArms.get(layerName)!;
    const base = {
      name: layerName,
      experiments: experimentReports,
      unassignedUsers: restUsers - users.size,
      usersInSeveralArms: [...users.values()].filter((s) => s.size > 1).length,
    };
    if (!configured) {
      return {
        ...base,
        srm: null,
        srmUnavailable: shares ? 'the layer is not in the configured shares' : 'no shares',
      };
    }
    const groups = configured.arms.map((a) => `${a.experiment}/${a.arm}`);
    const counts =
      configured.unit === 'user'
        ? configured.arms.map((a) => experiments.get(a.experiment)!.get(a.arm)!.users.size)
        : groups.map((g) => armRequests.get(layerName)!.get(g) ?? 0);
    const outside = remainder(configured.arms.map((a) => a.share));
    if (outside > 0) {
      groups.push('(unassigned)');
      const assignedRequests = [...armRequests.get(layerName)!.values()].reduce((s, n) => s + n, 0);
      counts.push(configured.unit === 'user' ? restUsers - users.size : rest.requests - assignedRequests);
    }
    const checked = srm(
      configured.unit,
      groups,
      counts,
      [...configured.arms.map((a) => a.share), ...(outside > 0 ? [outside] : [])],
      srmThreshold,
    );
    return typeof checked === 'string'
      ? { ...base, srm: null, srmUnavailable: checked }
      : { ...base, srm: checked };
  });

  const holdoutSrm =
    shares === undefined
      ? 'no shares'
      : srm(
          'user',
          ['holdout', 'rest'],
          [holdout.users.size, restUsers],
          [shares.holdout, remainder([shares.holdout])],
          srmThreshold,
        );
  return {
    unit: 'user',
    level,
    totals: all.totals(),
    unreadableLabels,
    layers,
    holdout: {
      holdout: holdout.summary(),
      rest: rest.summary(),
      comparison: compareGroups(holdout, rest, level, pre),
      ...(typeof holdoutSrm === 'string' ? { srm: null, srmUnavailable: holdoutSrm } : { srm: holdoutSrm }),
    },
    srmThreshold,
    series: { bucket, bucketMs, rowsWithoutTime },
    cuped:
      preRows === undefined || pre === undefined ? null : { preRequests: preRows.length, preUsers: pre.size },
  };
}
