import { describe, expect, it } from '@jest/globals';
import { DAY_MS, HOUR_MS, localDayOf } from './local-day.js';
import { targetSpend } from './target-spend.js';
import { type HourlyCount, TrafficCurve, hourOfDay } from './traffic-curve.js';

const DAY = Date.UTC(2026, 2, 2);

/** Twice the traffic from 12:00 to 24:00 UTC as from 00:00 to 12:00. */
const twoLevels = () => TrafficCurve.of(Array.from({ length: 24 }, (_, h) => (h < 12 ? 1 : 2)));

function countsOf(weights: (hour: number) => number, days: number): HourlyCount[] {
  return Array.from({ length: days * 24 }, (_, i) => ({
    hourStartMs: DAY - days * DAY_MS + i * HOUR_MS,
    requests: weights(i % 24),
  }));
}

describe(TrafficCurve.name, () => {
  it('is flat without history: an hour holds a 24th of the day', () => {
    const sut = TrafficCurve.flat();

    expect(sut.shareBetween(DAY, DAY + HOUR_MS)).toBeCloseTo(1 / 24, 12);
    expect(sut.shareBetween(DAY + 30 * 60_000, DAY + 90 * 60_000)).toBeCloseTo(1 / 24, 12);
    expect(sut.shareBetween(DAY, DAY + 3 * DAY_MS)).toBeCloseTo(3, 9);
  });

  it('integrates a curve within and across hours and days', () => {
    const sut = twoLevels();

    expect(sut.shareBetween(DAY, DAY + 12 * HOUR_MS)).toBeCloseTo(1 / 3, 12);
    expect(sut.shareBetween(DAY + 11.5 * HOUR_MS, DAY + 12.5 * HOUR_MS)).toBeCloseTo(1.5 / 36, 12);
    expect(sut.shareBetween(DAY + 18 * HOUR_MS, DAY + DAY_MS + 6 * HOUR_MS)).toBeCloseTo(1 / 3 + 1 / 6, 12);
  });

  it('learns each hour’s share from the logged request counts', () => {
    const sut = TrafficCurve.learn(
      countsOf((h) => (h < 12 ? 100 : 200), 3),
      {
        minRequests: 1,
        priorDays: 0,
      },
    );

    expect(sut.shares[0]).toBeCloseTo(1 / 36, 12);
    expect(sut.shares[23]).toBeCloseTo(2 / 36, 12);
  });

  it('mixes in a little flat traffic, and gives an hour never seen the mean', () => {
    const counts = countsOf((h) => (h < 12 ? 100 : 200), 1).filter((c) => hourOfDay(c.hourStartMs) !== 5);

    const sut = TrafficCurve.learn(counts, { minRequests: 1, priorDays: 1 });

    const mean = (11 * 100 + 12 * 200) / 23;
    const weights = Array.from({ length: 24 }, (_, h) =>
      h === 5 ? mean : ((h < 12 ? 100 : 200) + mean) / 2,
    );
    const total = weights.reduce((a, b) => a + b, 0);
    sut.shares.forEach((share, h) => expect(share).toBeCloseTo(weights[h] / total, 12));
  });

  it('stays flat below the minimum of logged requests', () => {
    const sut = TrafficCurve.learn(
      countsOf((h) => (h < 12 ? 1 : 5), 1),
      { minRequests: 1000, priorDays: 0 },
    );

    expect(sut.shares).toEqual(TrafficCurve.flat().shares);
  });

  it('refuses weights that are not 24 non-negative numbers', () => {
    expect(() => TrafficCurve.of([1, 2])).toThrow('24 hourly weights');
    expect(() => TrafficCurve.of(new Array<number>(24).fill(0))).toThrow('must not all be 0');
    expect(() => TrafficCurve.of([...new Array<number>(23).fill(1), -1])).toThrow('non-negative');
  });
});

describe(targetSpend.name, () => {
  it('is the budget times the share of the local day’s expected traffic gone by', () => {
    const day = localDayOf(DAY + HOUR_MS, 'UTC');
    const budget = 36_000_000;

    expect(targetSpend(budget, twoLevels(), day, DAY)).toBe(0);
    expect(targetSpend(budget, twoLevels(), day, DAY + 12 * HOUR_MS)).toBeCloseTo(12_000_000, 3);
    expect(targetSpend(budget, twoLevels(), day, DAY + 18 * HOUR_MS)).toBeCloseTo(24_000_000, 3);
    expect(targetSpend(budget, twoLevels(), day, DAY + DAY_MS)).toBeCloseTo(budget, 3);
    expect(targetSpend(budget, twoLevels(), day, DAY + 2 * DAY_MS)).toBeCloseTo(budget, 3);
  });

  it('follows the UTC curve from the advertiser’s own midnight', () => {
    // Tokyo's day starts at 15:00 UTC: its first nine hours are in the busy half of the curve.
    const tokyo = localDayOf(DAY + 20 * HOUR_MS, 'Asia/Tokyo');

    expect(targetSpend(36, twoLevels(), tokyo, tokyo.startMs + 9 * HOUR_MS)).toBeCloseTo(18, 9);
  });

  it('spreads a 25-hour day over all of its hours', () => {
    const autumn = localDayOf(Date.UTC(2026, 10, 1, 18), 'America/New_York');

    expect(targetSpend(25, TrafficCurve.flat(), autumn, autumn.startMs + HOUR_MS)).toBeCloseTo(1, 9);
    expect(targetSpend(25, TrafficCurve.flat(), autumn, autumn.endMs)).toBeCloseTo(25, 9);
  });
});
