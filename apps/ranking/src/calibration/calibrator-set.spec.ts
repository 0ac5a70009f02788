import { describe, expect, it } from '@jest/globals';
import type { Calibrator } from '@adfunnel/models';
import { CalibratorSet } from './calibrator-set.js';

function calibratorFactory(overrides: Partial<Calibrator> = {}): Calibrator {
  return {
    modelVersion: 'v1',
    surface: 'search',
    bidType: null,
    map: { kind: 'platt', a: 1, b: Math.log(2) },
    impressions: 1_000,
    clicks: 100,
    examination: [1, 0.7],
    ...overrides,
  };
}

describe(CalibratorSet.name, () => {
  const sut = new CalibratorSet(
    [
      calibratorFactory(),
      calibratorFactory({ bidType: 'CPA', map: { kind: 'isotonic', xs: [0.01, 0.1], ys: [0.05, 0.5] } }),
    ],
    Date.UTC(2026, 0, 1),
  );

  it('applies the bid type calibrator where there is one, else the surface one', () => {
    const out = sut.apply('v1', 'search', ['CPC', 'CPA'], [0.1, 0.1])!;
    // Odds 1/9 doubled: 2/9, a probability of 2/11.
    expect(out.pCtr[0]).toBeCloseTo(2 / 11, 6);
    expect(out.pCtr[1]).toBe(0.5);
    expect(out.id).toBe('v1@2026-01-01T00:00:00.000Z');
  });

  it('has nothing for another model version or surface', () => {
    expect(sut.apply('v2', 'search', ['CPC'], [0.1])).toBeNull();
    expect(sut.apply('v1', 'home_feed', ['CPC'], [0.1])).toBeNull();
  });
});
