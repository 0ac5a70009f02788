import type { BidType, Surface } from '@adfunnel/contracts';
import { describe, expect, it } from '@jest/globals';
import { calibrationReport } from './calibration-report.js';
import {
  type Calibrator,
  type LoggedOutcome,
  applyCalibrationMap,
  estimateExamination,
  fitCalibrators,
  recencyWeights,
} from './position-aware-calibration.js';

/** Impressions whose true P(click | examined) is `scale` x predicted, shown in slot s with examination[s]. */
function logged({
  n,
  scale,
  examination,
  surface = 'home_feed',
  bidType = 'CPC',
  modelVersion = 'v1',
  seed = 7,
}: {
  n: number;
  scale: number;
  examination: number[];
  surface?: Surface;
  bidType?: BidType;
  modelVersion?: string | null;
  seed?: number;
}): LoggedOutcome[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const slot = i % examination.length;
    const predicted = 0.01 + 0.09 * random();
    const clicked = random() < examination[slot] * Math.min(1, scale * predicted);
    return { surface, bidType, modelVersion, slot, predicted, clicked };
  });
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EXAMINATION = [1, 0.7, 0.49];

describe(estimateExamination.name, () => {
  it('recovers P(examine | slot) from the logs, slot 0 as examined', () => {
    const sut = estimateExamination(logged({ n: 120_000, scale: 1.25, examination: EXAMINATION }));
    const e = sut.get('home_feed')!;
    expect(e[0]).toBe(1);
    expect(e[1]).toBeCloseTo(0.7, 1);
    expect(e[2]).toBeCloseTo(0.49, 1);
  });
});

describe(fitCalibrators.name, () => {
  it.each(['platt', 'isotonic'] as const)(
    '%s: maps predictions to the observed P(click | examined), position accounted for',
    (method) => {
      const outcomes = logged({ n: 120_000, scale: 1.25, examination: EXAMINATION });
      const [sut, ...others] = fitCalibrators(outcomes, { method, minClicks: 100 });
      expect(others).toEqual([]);
      expect(sut).toMatchObject({ modelVersion: 'v1', surface: 'home_feed', bidType: null });
      for (const p of [0.02, 0.05, 0.08]) {
        // Isotonic steps are noisier than Platt's two parameters on the same data.
        expect(Math.abs(applyCalibrationMap(sut.map, p) / (1.25 * p) - 1)).toBeLessThan(0.1);
      }
      const calibrated = outcomes.map((o) => ({ ...o, predicted: applyCalibrationMap(sut.map, o.predicted) }));
      expect(calibrationReport(calibrated, outcomes).overall.ratio).toBeCloseTo(1, 1);
    },
  );

  it('fits each model version and bid type apart, and skips groups under the minimum of clicks', () => {
    const outcomes = [
      ...logged({ n: 60_000, scale: 1.25, examination: EXAMINATION, bidType: 'CPC', seed: 1 }),
      ...logged({ n: 60_000, scale: 0.8, examination: EXAMINATION, bidType: 'CPM', seed: 2 }),
      ...logged({ n: 2_000, scale: 1, examination: EXAMINATION, modelVersion: 'v2', seed: 3 }),
      ...logged({ n: 2_000, scale: 1, examination: EXAMINATION, modelVersion: null, seed: 4 }),
    ];
    const sut = fitCalibrators(outcomes, { method: 'platt', minClicks: 500 });
    expect(sut.map((c) => `${c.modelVersion}/${c.surface}/${c.bidType}`).sort()).toEqual([
      'v1/home_feed/CPC',
      'v1/home_feed/CPM',
      'v1/home_feed/null',
    ]);
    const cpc = sut.find((c) => c.bidType === 'CPC')!;
    const cpm = sut.find((c) => c.bidType === 'CPM')!;
    expect(applyCalibrationMap(cpc.map, 0.05) / 0.0625).toBeCloseTo(1, 1);
    expect(applyCalibrationMap(cpm.map, 0.05) / 0.04).toBeCloseTo(1, 1);
  });

  it('keeps the order of predictions (Platt is strictly increasing)', () => {
    const [sut] = fitCalibrators(logged({ n: 30_000, scale: 0.9, examination: EXAMINATION }), {
      method: 'platt',
      minClicks: 50,
    });
    const mapped = [0.01, 0.011, 0.05, 0.051].map((p) => applyCalibrationMap(sut.map, p));
    expect([...mapped].sort((a, b) => a - b)).toEqual(mapped);
    expect(new Set(mapped).size).toBe(4);
  });
});

describe(calibrationReport.name, () => {
  it('says a model predicting 80% of the examined click rate has a ratio near 0.8, with an interval', () => {
    const outcomes = [
      ...logged({ n: 60_000, scale: 1.25, examination: EXAMINATION, seed: 5 }),
      ...logged({ n: 30_000, scale: 1.25, examination: [1, 0.6, 0.36], surface: 'search', seed: 6 }),
    ];
    const sut = calibrationReport(outcomes);
    expect(sut.impressions).toBe(90_000);
    expect(sut.bySurface.map((g) => g.key)).toEqual(['home_feed', 'search']);
    for (const group of [sut.overall, ...sut.bySurface]) {
      expect(group.ratio).toBeCloseTo(0.8, 1);
      expect(group.slot0.ratio).toBeCloseTo(0.8, 1);
      expect(group.ci95![0]).toBeLessThan(group.ratio!);
      expect(group.ci95![1]).toBeGreaterThan(group.ratio!);
    }
    expect(sut.examination.search![1]).toBeCloseTo(0.6, 1);
    const populated = sut.reliability.filter((b) => b.impressions > 0);
    expect(populated.reduce((n, b) => n + b.impressions, 0)).toBe(90_000);
    for (const bin of populated) expect(bin.observed! / bin.meanPredicted!).toBeCloseTo(1.25, 0);
  });
});

describe(`${fitCalibrators.name} with priorClicks (hierarchy)`, () => {
  /** A calibrated model: mean |log(served / observed)| on a fresh window, over seeds, of one thin surface. */
  const meanError = (priorClicks: number) => {
    let error = 0;
    const seeds = 12;
    for (let seed = 1; seed <= seeds; seed++) {
      const thin = (s: number, n: number) =>
        logged({ n, scale: 1, examination: [1, 0.5, 0.35], surface: 'related_items', seed: s });
      const outcomes = [
        ...logged({ n: 30_000, scale: 1, examination: EXAMINATION, seed: 100 + seed }),
        ...thin(seed, 5_000),
      ];
      const fitted = fitCalibrators(outcomes, { method: 'platt', minClicks: 100, priorClicks });
      const map = fitted.find((c) => c.surface === 'related_items' && c.bidType === null)?.map;
      const fresh = thin(1_000 + seed, 60_000);
      let expected = 0;
      let clicks = 0;
      const e = [1, 0.5, 0.35];
      for (const o of fresh) {
        expected += (map === undefined ? o.predicted : applyCalibrationMap(map, o.predicted)) * e[o.slot];
        clicks += o.clicked ? 1 : 0;
      }
      error += Math.abs(Math.log(expected / clicks));
    }
    return error / seeds;
  };

  it('keeps a surface with few clicks near its calibrated model, where a map of its own would not', () => {
    const alone = meanError(0);
    const pooled = meanError(100);
    expect(pooled).toBeLessThan(0.8 * alone);
  });

  it('still moves a thin surface the model under-predicts, and fits a well-clicked one as before', () => {
    const outcomes = [
      ...logged({ n: 60_000, scale: 1.25, examination: EXAMINATION, seed: 11 }),
      ...logged({ n: 60_000, scale: 1.25, examination: [1, 0.5, 0.35], surface: 'search', seed: 12 }),
    ];
    const fitted = fitCalibrators(outcomes, { method: 'platt', minClicks: 100, priorClicks: 100 });
    for (const surface of ['home_feed', 'search'] as const) {
      const map = fitted.find((c) => c.surface === surface && c.bidType === null)!.map;
      expect(applyCalibrationMap(map, 0.05) / 0.0625).toBeCloseTo(1, 1);
    }
  });
});

describe(`${fitCalibrators.name} with halfLifeMs (recency weighting)`, () => {
  const HOUR = 3_600_000;
  /** An hour of impressions whose true P(click | examined) / predicted falls from 1.25 to 0.7. */
  const drifting = (seed: number, surface: Surface = 'home_feed') =>
    logged({ n: 120_000, scale: 1, examination: EXAMINATION, surface, seed }).map((o, i, all) => {
      const servedAt = (i / all.length) * HOUR;
      const scale = 1.25 - (0.55 * servedAt) / HOUR;
      const random = mulberry32(seed * 1_000_003 + i);
      const clicked = random() < EXAMINATION[o.slot] * scale * o.predicted;
      return { ...o, servedAt, clicked };
    });
  /** The level of the last ten minutes: 0.7 + 0.55 / 12. */
  const recent = 0.7 + 0.55 / 12;
  const levelOf = (fitted: readonly Calibrator[], surface: Surface = 'home_feed') =>
    applyCalibrationMap(fitted.find((c) => c.surface === surface && c.bidType === null)!.map, 0.05) / 0.05;

  it.each([0, 100])('priorClicks %d: a weighted fit tracks the recent click rate, an unweighted one does not', (priorClicks) => {
    const outcomes = drifting(21);
    const options = { method: 'platt', minClicks: 100, priorClicks, now: HOUR } as const;
    const unweighted = levelOf(fitCalibrators(outcomes, { ...options, halfLifeMs: 0 }));
    const weighted = levelOf(fitCalibrators(outcomes, { ...options, halfLifeMs: 300_000 }));
    expect(unweighted / recent).toBeGreaterThan(1.2);
    expect(Math.abs(weighted / recent - 1)).toBeLessThan(0.1);
  });

  it('counts clicks weighted against the gates: a version served only long ago is not calibrated', () => {
    const old = logged({ n: 30_000, scale: 1, examination: EXAMINATION, modelVersion: 'old', seed: 31 }).map(
      (o) => ({ ...o, servedAt: 0 }),
    );
    const outcomes = [...old, ...drifting(32)];
    const options = { method: 'platt', minClicks: 100, priorClicks: 100, now: HOUR } as const;
    const versions = (halfLifeMs: number) =>
      new Set(fitCalibrators(outcomes, { ...options, halfLifeMs }).map((c) => c.modelVersion));
    expect(versions(0)).toEqual(new Set(['old', 'v1']));
    expect(versions(300_000)).toEqual(new Set(['v1']));
    // The counts it reports stay the window's.
    const [v1] = fitCalibrators(outcomes, { ...options, halfLifeMs: 300_000 }).filter((c) => c.modelVersion === 'v1');
    expect(v1.impressions).toBe(120_000);
  });

  it('weighs by half-life from now back to servedAt, outcomes without one as 1', () => {
    const o = { surface: 'search', bidType: 'CPC', modelVersion: 'v1', slot: 0, predicted: 0.05, clicked: false } as const;
    const weightOf = recencyWeights([{ ...o, servedAt: 10_000 }], 1_000);
    expect(weightOf({ ...o, servedAt: 10_000 })).toBe(1);
    expect(weightOf({ ...o, servedAt: 9_000 })).toBeCloseTo(0.5, 12);
    expect(weightOf({ ...o, servedAt: 7_000 })).toBeCloseTo(0.125, 12);
    expect(weightOf(o)).toBe(1);
    expect(recencyWeights([], 0)({ ...o, servedAt: 0 })).toBe(1);
  });
});
