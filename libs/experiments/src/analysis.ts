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

type Counted = Exclude<keyof ExperimentRequestRow, 'requestId' | 'userId' | 'label'>;
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

/** One arm's (or the holdout's) totals and metrics, the metrics null where undefined (no impressions). */
export interface GroupSummary {
  readonly totals: Totals;
  /** Per user: requests, impressions, clicks, conversions, revenue, advertiserValue. */
  readonly perUser: Record<MeanMetric, number | null>;
  readonly ctr: number | null;
  readonly cvr: number | null;
  readonly hidesPerMille: number | null;
  readonly revenuePerMille: number | null;
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
}

export interface AnalysisOptions {
  readonly shares?: ArmShares;
  /** Confidence level of the intervals, default 0.95. */
  readonly level?: number;
  /** Sample-ratio mismatch flagged below this p-value, default 0.001. */
  readonly srmThreshold?: number;
}

/** Per-user sums of one group's requests. */
class Group {
  readonly users = new Map<string, Record<Counted | 'requests', number>>();
  requests = 0;

  add(row: ExperimentRequestRow): void {
    let user = this.users.get(row.userId);
    if (user === undefined) {
      user = {
        requests: 0,
        ads: 0,
        impressions: 0,
        clicks: 0,
        conversions: 0,
        hides: 0,
        revenue: 0,
        advertiserValue: 0,
      };
      this.users.set(row.userId, user);
    }
    user.requests += 1;
    for (const key of COUNTED) user[key] += row[key];
    this.requests += 1;
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
    };
  }
}

/** treatment against control on every metric, user as the unit. */
function compareGroups(control: Group, treatment: Group, level: number): MetricComparison[] {
  const out: MetricComparison[] = [];
  const few = control.users.size < 2 || treatment.users.size < 2;
  for (const metric of MEAN_METRICS) {
    const a = control.column(metric);
    const b = treatment.column(metric);
    const meanOf = (v: number[]) => (v.length === 0 ? null : v.reduce((s, x) => s + x, 0) / v.length);
    if (few) {
      out.push(unavailable(metric, 'perUser', meanOf(a), meanOf(b), 'fewer than 2 users in an arm'));
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
      out.push(unavailable(metric, 'ratio', pa, pb, 'fewer than 2 users in an arm'));
      continue;
    }
    if (pa === null || pb === null) {
      out.push(unavailable(metric, 'ratio', pa, pb, `no ${denominator} in an arm`));
      continue;
    }
    const ra = ratioEstimate(scaled(control), control.column(denominator));
    const rb = ratioEstimate(scaled(treatment), treatment.column(denominator));
    out.push({
      metric,
      kind: 'ratio',
      control: ra.ratio,
      treatment: rb.ratio,
      // compareRatios, less its lift when the control's ratio is 0.
      difference: zComparison(rb.ratio - ra.ratio, Math.sqrt(ra.variance + rb.variance), level),
      relativeLift: ra.ratio === 0 ? null : relativeLift(ra.ratio, ra.variance, rb.ratio, rb.variance, level),
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
): MetricComparison {
  return { metric, kind, control, treatment, difference: null, relativeLift: null, unavailable: reason };
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
  { shares, level = 0.95, srmThreshold = 0.001 }: AnalysisOptions = {},
): ExperimentAnalysis {
  const all = new Group();
  const holdout = new Group();
  const rest = new Group();
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
      if (!experiments.get(a.experiment)!.has(a.arm)) experiments.get(a.experiment)!.set(a.arm, new Group());
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
    if (parsed.holdout) {
      holdout.add(row);
      continue;
    }
    rest.add(row);
    for (const { layer, experiment, arm } of parsed.arms) {
      const experiments = ensureLayer(layer);
      if (!experiments.has(experiment)) experiments.set(experiment, new Map());
      const byArm = experiments.get(experiment)!;
      if (!byArm.has(arm)) byArm.set(arm, new Group());
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
            metrics: compareGroups(byArm.get(control)!, byArm.get(arm)!, level),
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
      comparison: compareGroups(holdout, rest, level),
      ...(typeof holdoutSrm === 'string' ? { srm: null, srmUnavailable: holdoutSrm } : { srm: holdoutSrm }),
    },
    srmThreshold,
  };
}
