import type { Surface } from '@adfunnel/contracts';
import { type LoggedOutcome, estimateExamination, groupBy } from './position-aware-calibration.js';

/** Predicted against observed clicks for one group of impressions, position accounted for. */
export interface CalibrationGroupStats {
  key: string;
  impressions: number;
  clicks: number;
  /** Σ predicted x P(examine | slot): the clicks the predictions expect where the ads were shown. */
  expectedClicks: number;
  /** expectedClicks / clicks (1 is calibrated); null without clicks. */
  ratio: number | null;
  /** 95% interval of the ratio, clicks taken as Poisson (the examination estimate's own error left out). */
  ci95: [number, number | null] | null;
  /** The same for slot 0 alone, where examination is 1 by definition: no examination estimate needed. */
  slot0: { impressions: number; clicks: number; expectedClicks: number; ratio: number | null };
}

export interface ReliabilityBin {
  /** Predicted P(click | examined) in [lo, hi). */
  lo: number;
  hi: number;
  impressions: number;
  /** Σ P(examine | slot) of the bin's impressions. */
  examined: number;
  clicks: number;
  meanPredicted: number | null;
  /** clicks / examined: the observed P(click | examined). */
  observed: number | null;
}

export interface CalibrationReport {
  impressions: number;
  clicks: number;
  /** P(examine | slot) per surface, slot 0 = 1, estimated from this window (estimateExamination). */
  examination: Partial<Record<Surface, number[]>>;
  overall: CalibrationGroupStats;
  bySurface: CalibrationGroupStats[];
  byBidType: CalibrationGroupStats[];
  byModelVersion: CalibrationGroupStats[];
  bySurfaceAndBidType: CalibrationGroupStats[];
  reliability: ReliabilityBin[];
}

export const RELIABILITY_EDGES = [0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1];
const Z95 = 1.959964;

/**
 * The calibration monitor: for `outcomes` (predicted P(click | examined) and the logged click),
 * predicted / observed per surface, bid type, model version and surface x bid type, and a
 * reliability table. `examinationFrom` are the outcomes the examination is estimated from (by
 * default the same): the model's raw predictions, so that one table serves raw and calibrated.
 */
export function calibrationReport(
  outcomes: readonly LoggedOutcome[],
  examinationFrom: readonly LoggedOutcome[] = outcomes,
): CalibrationReport {
  const examination = estimateExamination(examinationFrom);
  const eOf = (o: LoggedOutcome) => {
    const e = examination.get(o.surface);
    return e === undefined ? 1 : (e[Math.min(o.slot, e.length - 1)] ?? 1);
  };
  const stats = (key: string, rows: readonly LoggedOutcome[]): CalibrationGroupStats => {
    let clicks = 0;
    let expectedClicks = 0;
    let slot0Impressions = 0;
    let slot0Clicks = 0;
    let slot0Expected = 0;
    for (const o of rows) {
      const k = o.clicked ? 1 : 0;
      clicks += k;
      expectedClicks += o.predicted * eOf(o);
      if (o.slot === 0) {
        slot0Impressions += 1;
        slot0Clicks += k;
        slot0Expected += o.predicted;
      }
    }
    return {
      key,
      impressions: rows.length,
      clicks,
      expectedClicks: round(expectedClicks),
      ratio: clicks > 0 ? round(expectedClicks / clicks) : null,
      ci95: ratioInterval(expectedClicks, clicks),
      slot0: {
        impressions: slot0Impressions,
        clicks: slot0Clicks,
        expectedClicks: round(slot0Expected),
        ratio: slot0Clicks > 0 ? round(slot0Expected / slot0Clicks) : null,
      },
    };
  };
  const split = (keyOf: (o: LoggedOutcome) => string) =>
    [...groupBy(outcomes, keyOf)]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, rows]) => stats(key, rows));

  const reliability: ReliabilityBin[] = RELIABILITY_EDGES.slice(0, -1).map((lo, i) => ({
    lo,
    hi: RELIABILITY_EDGES[i + 1],
    impressions: 0,
    examined: 0,
    clicks: 0,
    meanPredicted: 0,
    observed: null,
  }));
  for (const o of outcomes) {
    const i = RELIABILITY_EDGES.findIndex((edge, j) => j > 0 && o.predicted < edge);
    const bin = reliability[i < 0 ? reliability.length - 1 : i - 1];
    bin.impressions += 1;
    bin.examined += eOf(o);
    bin.clicks += o.clicked ? 1 : 0;
    bin.meanPredicted! += o.predicted;
  }
  for (const bin of reliability) {
    bin.meanPredicted = bin.impressions > 0 ? round(bin.meanPredicted! / bin.impressions) : null;
    bin.observed = bin.examined > 0 ? round(bin.clicks / bin.examined) : null;
    bin.examined = round(bin.examined);
  }

  const overall = stats('all', outcomes);
  return {
    impressions: overall.impressions,
    clicks: overall.clicks,
    examination: Object.fromEntries([...examination].map(([s, e]) => [s, e.map(round)])),
    overall,
    bySurface: split((o) => o.surface),
    byBidType: split((o) => o.bidType),
    byModelVersion: split((o) => o.modelVersion ?? 'none'),
    bySurfaceAndBidType: split((o) => `${o.surface}/${o.bidType}`),
    reliability,
  };
}

/**
 * Only the per-surface ratios of calibrationReport (expected / observed clicks, position accounted
 * for), for several sets of predictions of the same impressions at once (say the served and the
 * model's own pCTR), with one examination estimate from `examinationFrom`: what
 * `calibrationReport(set, examinationFrom).bySurface` gives as `ratio`, without the rest of the
 * report. The ranking service refreshes its monitor with it on the serving process: the whole
 * report of both sets cost about 150 ms of event loop for 20,000 impressions, this a small part.
 */
export function surfaceClickRatios(
  sets: readonly (readonly LoggedOutcome[])[],
  examinationFrom: readonly LoggedOutcome[],
): { surface: Surface; ratios: (number | null)[] }[] {
  const examination = estimateExamination(examinationFrom);
  const bySurface = new Map<Surface, { clicks: number[]; expected: number[] }>();
  sets.forEach((outcomes, i) => {
    for (const o of outcomes) {
      let sums = bySurface.get(o.surface);
      if (sums === undefined) {
        sums = { clicks: sets.map(() => 0), expected: sets.map(() => 0) };
        bySurface.set(o.surface, sums);
      }
      const e = examination.get(o.surface);
      sums.clicks[i] += o.clicked ? 1 : 0;
      sums.expected[i] += o.predicted * (e === undefined ? 1 : (e[Math.min(o.slot, e.length - 1)] ?? 1));
    }
  });
  return [...bySurface]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([surface, { clicks, expected }]) => ({
      surface,
      ratios: clicks.map((n, i) => (n > 0 ? round(expected[i] / n) : null)),
    }));
}

/** expected / λ for the Poisson mean λ of `clicks` (normal approximation); upper end null under ~4 clicks. */
function ratioInterval(expected: number, clicks: number): [number, number | null] | null {
  if (clicks === 0) return null;
  const half = Z95 * Math.sqrt(clicks);
  const upper = clicks - half > 0 ? round(expected / (clicks - half)) : null;
  return [round(expected / (clicks + half)), upper];
}

function round(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}
