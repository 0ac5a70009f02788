import { describe, expect, it } from '@jest/globals';
import { TrafficCurve, localDayOf } from '@adfunnel/pacing';
import { type CampaignDay, distribution, pacingDayReport, poissonWithin } from './pacing-day-report.js';

const DAY = localDayOf(Date.UTC(2026, 2, 2, 12), 'UTC');
/** Twice the traffic from 12:00 UTC as before. */
const CURVE = TrafficCurve.of(Array.from({ length: 24 }, (_, h) => (h < 12 ? 1 : 2)));
const BUDGET = 36_000_000;

/** A campaign-day that spends `perHour(h)` x the target increment of each hour, with `events` charges a day. */
function campaignFactory(
  overrides: Partial<CampaignDay>,
  perHour: (hour: number) => number,
  events = 2_400,
): CampaignDay {
  const hourlyMicros = Array.from({ length: 24 }, (_, h) => ((h < 12 ? 1 : 2) / 36) * BUDGET * perHour(h));
  return {
    campaignId: 1,
    bidType: 'CPM',
    pacing: 'even',
    budgetMicros: BUDGET,
    chargedMicros: Math.round(hourlyMicros.reduce((a, b) => a + b, 0)),
    overdeliveredMicros: 0,
    hourlyMicros,
    hourlyEvents: hourlyMicros.map((m) => Math.round((events * m) / BUDGET)),
    budgetLimited: true,
    ...overrides,
  };
}

describe(pacingDayReport.name, () => {
  it('finds a campaign that spends along the target curve within it every hour, and ending at its budget', () => {
    const sut = pacingDayReport([campaignFactory({}, () => 1)], CURVE, DAY);

    expect(sut.evenLimited).toMatchObject({
      campaigns: 1,
      endedWithinTarget: 1,
      curveWithinTolerance: 1,
      hoursWithinTolerance: 1,
      meanEventsPerHour: 100,
    });
    expect(sut.evenLimited.finalRatio?.median).toBeCloseTo(1, 6);
    expect(sut.evenLimitedDense.campaigns).toBe(1);
    expect(sut.overspend).toEqual({ campaignDays: 0, micros: 0 });
  });

  it('tells hours off the curve from a day that ends on budget anyway', () => {
    // 30% over the target until 06:00, 30% under it until noon, then on it, 10% over at the end.
    const perHour = (h: number) => (h < 6 ? 1.3 : h < 12 ? 0.7 : h < 22 ? 1 : 1.1);

    const sut = pacingDayReport([campaignFactory({}, perHour)], CURVE, DAY);

    expect(sut.evenLimited.hoursWithinTolerance).toBeCloseTo(12 / 24, 9);
    // The day so far: 30% ahead at first, 21% still at 07:00, back within 20% from 08:00.
    expect(sut.evenLimited.curveWithinTolerance).toBeCloseTo(17 / 24, 9);
  });

  it('groups campaigns by pacing, budget limitation and density of charges, and counts overspend', () => {
    const sut = pacingDayReport(
      [
        campaignFactory({ campaignId: 1 }, () => 1),
        campaignFactory({ campaignId: 2, bidType: 'CPC' }, () => 1, 120),
        campaignFactory({ campaignId: 3, pacing: 'asap', chargedMicros: BUDGET + 5 }, (h) =>
          h < 10 ? 2.4 : 0,
        ),
        campaignFactory({ campaignId: 4, budgetLimited: false }, () => 0.3),
      ],
      CURVE,
      DAY,
    );

    expect(sut.evenLimited.campaigns).toBe(2);
    expect(sut.evenLimitedByBidType.CPC.campaigns).toBe(1);
    expect([sut.evenLimitedDense.campaigns, sut.evenLimitedSparse.campaigns]).toEqual([1, 1]);
    expect(sut.asapLimited.campaigns).toBe(1);
    expect(sut.notLimited.finalRatio?.max).toBeCloseTo(0.3, 6);
    expect(sut.overspend).toEqual({ campaignDays: 1, micros: 5 });
  });

  it('gives a sparse campaign a low Poisson floor', () => {
    const sut = pacingDayReport([campaignFactory({}, () => 1, 120)], CURVE, DAY);

    expect(sut.evenLimited.poissonFloor).toBeLessThan(0.5);
  });
});

describe(distribution.name, () => {
  it('interpolates between order statistics', () => {
    expect(distribution([5, 1, 3, 2, 4, 6, 7, 8, 9, 10, 11])).toEqual({
      n: 11,
      min: 1,
      p10: 2,
      median: 6,
      p90: 10,
      max: 11,
    });
  });
});

describe(poissonWithin.name, () => {
  it('is the mass of a Poisson distribution within a band around its mean', () => {
    // Poisson(5): P(4 <= N <= 6) = e^-5 (5^4/24 + 5^5/120 + 5^6/720).
    const exact = Math.exp(-5) * (625 / 24 + 3125 / 120 + 15625 / 720);
    expect(poissonWithin(5, 0.2)).toBeCloseTo(exact, 12);
    expect(poissonWithin(10_000, 0.2)).toBeCloseTo(1, 9);
  });
});
