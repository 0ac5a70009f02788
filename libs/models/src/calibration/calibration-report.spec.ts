import { describe, expect, it } from '@jest/globals';
import type { BidType, Surface } from '@adfunnel/contracts';
import { calibrationReport, surfaceClickRatios } from './calibration-report.js';
import type { LoggedOutcome } from './position-aware-calibration.js';

/** Impressions on three surfaces and four slots, clicked with a slot-decaying rate the predictions overstate. */
function outcomes(n: number, seed: number): LoggedOutcome[] {
  let state = seed;
  const random = () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
  const surfaces: Surface[] = ['home_feed', 'search', 'related_items'];
  const bidTypes: BidType[] = ['CPM', 'CPC', 'CPA'];
  return Array.from({ length: n }, (_, i) => {
    const slot = i % 4;
    const predicted = 0.01 + 0.1 * random();
    return {
      surface: surfaces[i % 3],
      bidType: bidTypes[(i >> 2) % 3],
      modelVersion: 'v1',
      slot,
      predicted,
      clicked: random() < (predicted * 0.8) / (1 + slot),
    };
  });
}

describe(surfaceClickRatios.name, () => {
  it("gives each set's per-surface ratio as the whole report does, from one examination estimate", () => {
    const model = outcomes(6000, 7);
    const served = model.map((o) => ({ ...o, predicted: Math.min(1, o.predicted * 1.3) }));

    const ratios = surfaceClickRatios([served, model], model);

    const servedReport = calibrationReport(served, model).bySurface;
    const modelReport = calibrationReport(model).bySurface;
    expect(ratios.map((r) => r.surface)).toEqual(servedReport.map((g) => g.key));
    expect(ratios.map((r) => r.ratios[0])).toEqual(servedReport.map((g) => g.ratio));
    expect(ratios.map((r) => r.ratios[1])).toEqual(modelReport.map((g) => g.ratio));
    // The served predictions overstate the model's by 30%: so do their ratios.
    for (const { ratios: [s, m] } of ratios) expect(s! / m!).toBeCloseTo(1.3, 1);
  });

  it('answers null for a surface without clicks, and nothing for no impressions', () => {
    const unclicked = outcomes(300, 3).map((o) => ({ ...o, clicked: false }));

    expect(surfaceClickRatios([unclicked], unclicked).every((r) => r.ratios[0] === null)).toBe(true);
    expect(surfaceClickRatios([[]], [])).toEqual([]);
  });
});
