import type { BidType, Surface } from '@adfunnel/contracts';
import { type IsotonicFit, type WeightedPoint, applyIsotonic, fitIsotonic } from './isotonic-regression.js';
import { IDENTITY_PLATT, type PlattFit, applyPlatt, fitPlatt, logit } from './platt-scaling.js';

export const CALIBRATION_METHODS = ['platt', 'isotonic'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** One logged impression: what was predicted for it and whether it was clicked. */
export interface LoggedOutcome {
  surface: Surface;
  bidType: BidType;
  modelVersion: string | null;
  /** 0-based position it was shown in. */
  slot: number;
  /** P(click | examined) as predicted. */
  predicted: number;
  clicked: boolean;
  /** When it was served (epoch ms, the funnel's clock): what a recency-weighted fit ages it by. */
  servedAt?: number;
}

export type CalibrationMap =
  | { kind: 'identity' }
  | ({ kind: 'platt' } & PlattFit)
  | ({ kind: 'isotonic' } & IsotonicFit);

export const IDENTITY_MAP: CalibrationMap = Object.freeze({ kind: 'identity' });

export function applyCalibrationMap(map: CalibrationMap, p: number): number {
  switch (map.kind) {
    case 'identity':
      return p;
    case 'platt':
      return applyPlatt(map, p);
    case 'isotonic':
      return Math.min(1, Math.max(0, applyIsotonic(map, p)));
  }
}

/** A fitted map for one model version on one surface, for one bid type or (null) all of them. */
export interface Calibrator {
  modelVersion: string;
  surface: Surface;
  bidType: BidType | null;
  map: CalibrationMap;
  /** Impressions and clicks in the window, each counted 1 (the fit may weigh them by age). */
  impressions: number;
  clicks: number;
  /** P(examine | slot) on the surface, slot 0 = 1, estimated with the map (shared by its bid types). */
  examination: number[];
}

export interface CalibrationFitOptions {
  method: CalibrationMethod;
  /** Fewer clicks than this in a group: no calibrator for it (a bid type falls back to its surface's). */
  minClicks: number;
  /** Platt's pull towards the identity, in pseudo-observations. */
  prior?: number;
  /** Platt fits its slope only from this many clicks on; below, the log-odds shift alone (default 500). */
  slopeMinClicks?: number;
  /**
   * Platt only: above 0, maps are fitted as a hierarchy, each with a Gaussian prior worth this many
   * clicks centred on its parent's map: the version-wide map (all surfaces of a version) on the
   * identity, a surface's on its version's, a bid type's on its surface's; the examination of a
   * surface is estimated from all model versions served on it (each with its own map). 0 (default):
   * each group fitted alone, with `prior`.
   */
  priorClicks?: number;
  /**
   * Above 0, each outcome counts exp(-age / tau) of one, tau = halfLifeMs / ln 2, its age taken from
   * `now` back to its servedAt (outcomes without one count 1): the fit follows a click rate that drifts
   * within the window. Clicks are counted so weighted everywhere, the gates (`minClicks`,
   * `slopeMinClicks`) and the likelihood the prior's `priorClicks` are set against. 0 (default): all
   * count 1.
   */
  halfLifeMs?: number;
  /** The time ages are measured from (the fit's end of window); default the latest servedAt. */
  now?: number;
}

/** An outcome's weight in a fit. */
type WeightOf = (o: LoggedOutcome) => number;

const UNWEIGHTED: WeightOf = () => 1;

/** exp(-age / tau) with tau = halfLifeMs / ln 2, or 1 for all when halfLifeMs is 0. */
export function recencyWeights(
  outcomes: readonly LoggedOutcome[],
  halfLifeMs: number,
  now?: number,
): (o: LoggedOutcome) => number {
  if (!(halfLifeMs > 0)) return UNWEIGHTED;
  let reference = now;
  if (reference === undefined) {
    reference = -Infinity;
    for (const o of outcomes) if (o.servedAt !== undefined && o.servedAt > reference) reference = o.servedAt;
  }
  const end = reference;
  const rate = Math.LN2 / halfLifeMs;
  return (o) => (o.servedAt === undefined ? 1 : Math.exp(-rate * Math.max(0, end - o.servedAt)));
}

/** Impressions of one slot whose predictions share a bin 0.1 wide in log-odds. */
interface Cell {
  slot: number;
  impressions: number;
  clicks: number;
  sumPredicted: number;
}

const BIN_WIDTH = 0.1;
const MIN_EXAMINATION = 0.01;
const ROUNDS = 6;

/** Impressions and clicks are sums of weightOf (1 each unweighted). */
function cellsOf(outcomes: readonly LoggedOutcome[], weightOf: WeightOf = UNWEIGHTED): Cell[] {
  const cells = new Map<string, Cell>();
  for (const o of outcomes) {
    const w = weightOf(o);
    if (!(w > 0)) continue;
    const key = `${o.slot}:${Math.floor(logit(o.predicted) / BIN_WIDTH)}`;
    let cell = cells.get(key);
    if (cell === undefined) {
      cell = { slot: o.slot, impressions: 0, clicks: 0, sumPredicted: 0 };
      cells.set(key, cell);
    }
    cell.impressions += w;
    cell.clicks += o.clicked ? w : 0;
    cell.sumPredicted += w * o.predicted;
  }
  return [...cells.values()];
}

interface MapFit {
  method: CalibrationMethod;
  prior: number;
  fitSlope: boolean;
}

function fitMap(
  { method, prior, fitSlope }: MapFit,
  points: WeightedPoint[],
  shrink?: { center: PlattFit; clicks: number },
): CalibrationMap {
  return method === 'platt'
    ? { kind: 'platt', ...fitPlatt(points, prior, fitSlope, shrink) }
    : { kind: 'isotonic', ...fitIsotonic(points) };
}

/**
 * An impression in slot s counts as examination[s] examined impressions (the examination hypothesis,
 * as in PAL and inverse-propensity weighting): the point is the click rate per examined impression.
 */
function pointsOf(cells: readonly Cell[], examination: readonly number[]): WeightedPoint[] {
  return cells.map((c) => {
    const e = examinationOf(examination, c.slot);
    return { x: c.sumPredicted / c.impressions, y: c.clicks / (c.impressions * e), w: c.impressions * e };
  });
}

function examinationOf(examination: readonly number[], slot: number): number {
  return examination[Math.min(slot, examination.length - 1)] ?? 1;
}

/** e[0] = 1; e[s] = clicks in s / clicks the map expects of examined ads in s. */
function examinationGiven(cells: readonly Cell[], map: CalibrationMap): number[] {
  const slots = Math.max(0, ...cells.map((c) => c.slot)) + 1;
  const clicks = new Array<number>(slots).fill(0);
  const expected = new Array<number>(slots).fill(0);
  for (const c of cells) {
    clicks[c.slot] += c.clicks;
    expected[c.slot] += c.impressions * applyCalibrationMap(map, c.sumPredicted / c.impressions);
  }
  return clicks.map((k, s) =>
    s === 0 || expected[s] === 0 ? 1 : Math.min(1, Math.max(MIN_EXAMINATION, k / expected[s])),
  );
}

function fitJointly(cells: readonly Cell[], fit: MapFit): { map: CalibrationMap; examination: number[] } {
  // Alternate: examination given the map (identity first), then the map given examination.
  let examination = examinationGiven(cells, IDENTITY_MAP);
  let map = fitMap(fit, pointsOf(cells, examination));
  for (let round = 1; round < ROUNDS; round++) {
    examination = examinationGiven(cells, map);
    map = fitMap(fit, pointsOf(cells, examination));
  }
  return { map, examination };
}

/**
 * P(examine | slot) per surface from the outcomes alone, slot 0 taken as examined (as training does),
 * estimated jointly with a calibration map of the predictions (Platt): what the monitor divides by.
 */
export function estimateExamination(outcomes: readonly LoggedOutcome[]): Map<Surface, number[]> {
  const bySurface = groupBy(outcomes, (o) => o.surface);
  return new Map(
    [...bySurface].map(([surface, rows]) => [
      surface,
      fitJointly(cellsOf(rows), { method: 'platt', prior: 1, fitSlope: true }).examination,
    ]),
  );
}

/**
 * Calibrators per model version and surface (all bid types pooled, which also fixes the surface's
 * examination), then per bid type with that examination, for every group with at least `minClicks`
 * clicks. Outcomes without a model version are skipped: no calibrator applies to a version it was
 * not fitted on.
 */
export function fitCalibrators(
  outcomes: readonly LoggedOutcome[],
  options: CalibrationFitOptions,
): Calibrator[] {
  const { method, minClicks, prior = 1, slopeMinClicks = 500, priorClicks = 0, halfLifeMs = 0, now } = options;
  const weightOf = recencyWeights(outcomes, halfLifeMs, now);
  if (priorClicks > 0 && method === 'platt') return fitHierarchy(outcomes, options, weightOf);
  const fitted: Calibrator[] = [];
  const clicksOf = (rows: readonly LoggedOutcome[]) => clicksIn(rows, weightOf);
  const byGroup = groupBy(
    outcomes.filter((o) => o.modelVersion !== null),
    (o) => `${o.modelVersion}\u0000${o.surface}`,
  );
  for (const rows of byGroup.values()) {
    const clicks = clicksOf(rows);
    if (clicks < minClicks) continue;
    const { modelVersion, surface } = rows[0];
    const { map, examination } = fitJointly(cellsOf(rows, weightOf), {
      method,
      prior,
      fitSlope: clicks >= slopeMinClicks,
    });
    const base = { modelVersion: modelVersion!, surface, examination };
    fitted.push({ ...base, bidType: null, map, impressions: rows.length, clicks: clicksIn(rows) });
    for (const [bidType, ofType] of groupBy(rows, (o) => o.bidType)) {
      const typeClicks = clicksOf(ofType);
      if (typeClicks < minClicks || ofType.length === rows.length) continue;
      const typeFit = { method, prior, fitSlope: typeClicks >= slopeMinClicks };
      const typeMap = fitMap(typeFit, pointsOf(cellsOf(ofType, weightOf), examination));
      fitted.push({ ...base, bidType, map: typeMap, impressions: ofType.length, clicks: clicksIn(ofType) });
    }
  }
  return fitted;
}

/** Clicks among rows, each counted weightOf (1 unweighted). */
const clicksIn = (rows: readonly LoggedOutcome[], weightOf: WeightOf = UNWEIGHTED) =>
  rows.reduce((n, o) => n + (o.clicked ? weightOf(o) : 0), 0);

/**
 * P(examine | slot) per surface from every model version served on it, each version's predictions
 * through a map of its own: examination is the users' and the page's, not the model's, and a version
 * with few clicks would otherwise set its own from them alone.
 */
function pooledExamination(rows: readonly LoggedOutcome[], fit: MapFit, weightOf: WeightOf): number[] {
  const byVersion = [...groupBy(rows, (o) => o.modelVersion ?? '')].map(([, ofVersion]) =>
    cellsOf(ofVersion, weightOf),
  );
  const all = byVersion.flat();
  let maps: CalibrationMap[] = byVersion.map(() => IDENTITY_MAP);
  let examination = examinationGiven(all, IDENTITY_MAP);
  for (let round = 0; round < ROUNDS; round++) {
    maps = byVersion.map((cells) => fitMap(fit, pointsOf(cells, examination)));
    const slots = examination.length;
    const clicks = new Array<number>(slots).fill(0);
    const expected = new Array<number>(slots).fill(0);
    byVersion.forEach((cells, v) => {
      for (const c of cells) {
        clicks[c.slot] += c.clicks;
        expected[c.slot] += c.impressions * applyCalibrationMap(maps[v], c.sumPredicted / c.impressions);
      }
    });
    examination = clicks.map((k, s) =>
      s === 0 || expected[s] === 0 ? 1 : Math.min(1, Math.max(MIN_EXAMINATION, k / expected[s])),
    );
  }
  return examination;
}

/** fitCalibrators with priorClicks > 0: version → surface → bid type, each shrunk towards its parent. */
function fitHierarchy(
  outcomes: readonly LoggedOutcome[],
  { minClicks, prior = 1, slopeMinClicks = 500, priorClicks = 0 }: CalibrationFitOptions,
  weightOf: WeightOf,
): Calibrator[] {
  const weightedClicks = (rows: readonly LoggedOutcome[]) => clicksIn(rows, weightOf);
  const versioned = outcomes.filter((o) => o.modelVersion !== null);
  const examinationOf = new Map(
    [...groupBy(versioned, (o) => o.surface)].map(([surface, rows]) => [
      surface,
      pooledExamination(
        rows,
        { method: 'platt', prior, fitSlope: weightedClicks(rows) >= slopeMinClicks },
        weightOf,
      ),
    ]),
  );
  const pointsFor = (rows: readonly LoggedOutcome[]) =>
    [...groupBy(rows, (o) => o.surface)].flatMap(([surface, ofSurface]) =>
      pointsOf(cellsOf(ofSurface, weightOf), examinationOf.get(surface)!),
    );
  const shrunk = (rows: readonly LoggedOutcome[], center: PlattFit): PlattFit => {
    const fitSlope = weightedClicks(rows) >= slopeMinClicks;
    const map = fitMap({ method: 'platt', prior, fitSlope }, pointsFor(rows), {
      center,
      clicks: priorClicks,
    });
    return map.kind === 'platt' ? { a: map.a, b: map.b } : IDENTITY_PLATT;
  };
  const fitted: Calibrator[] = [];
  for (const [modelVersion, ofVersion] of groupBy(versioned, (o) => o.modelVersion!)) {
    if (weightedClicks(ofVersion) < minClicks) continue;
    const versionMap = shrunk(ofVersion, IDENTITY_PLATT);
    for (const [surface, ofSurface] of groupBy(ofVersion, (o) => o.surface)) {
      const surfaceMap = shrunk(ofSurface, versionMap);
      const base = { modelVersion, surface, examination: examinationOf.get(surface)! };
      const calibrator = (bidType: BidType | null, rows: readonly LoggedOutcome[], map: PlattFit): Calibrator => ({
        ...base,
        bidType,
        map: { kind: 'platt', ...map },
        impressions: rows.length,
        clicks: clicksIn(rows),
      });
      fitted.push(calibrator(null, ofSurface, surfaceMap));
      for (const [bidType, ofType] of groupBy(ofSurface, (o) => o.bidType)) {
        if (ofType.length === ofSurface.length) continue;
        fitted.push(calibrator(bidType, ofType, shrunk(ofType, surfaceMap)));
      }
    }
  }
  return fitted;
}

export function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}
