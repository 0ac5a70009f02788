import { describe, expect, it } from '@jest/globals';
import { DAY_MS, HOUR_MS, type LocalDay, localDayOf } from './local-day.js';
import {
  type CampaignPacingState,
  DEFAULT_PACING_PARAMETERS,
  PacingController,
} from './pacing-controller.js';
import { targetSpend } from './target-spend.js';
import { type HourlyCount, TrafficCurve } from './traffic-curve.js';

const DAY = Date.UTC(2026, 2, 2);
const SLICE_MS = 60_000;

/** A seeded uniform generator (mulberry32), so a synthetic day is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(mean: number, next: () => number): number {
  if (mean > 40) {
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = next(); p > limit; p *= next()) k++;
  return k;
}

/** Evening peak: 5x the traffic at 20:00 UTC as at 08:00. */
const diurnalWeights = (hour: number) => 1 + (2 / 3) * Math.cos((2 * Math.PI * (hour - 20)) / 24);

interface SyntheticCampaign {
  budgetMicros: number;
  /** Spend per day at pass-through 1: what the campaign would buy unthrottled. */
  demandMicros: number;
  /** Cost of one billable event: a CPM impression's thousandth or a click. */
  priceMicros: number;
}

interface SyntheticDay {
  finalRatio: number;
  /** Spend and target of each local hour. */
  hours: { spent: number; target: number }[];
  rates: number[];
}

/**
 * One campaign through a day in 1-minute slices: its events arrive as a Poisson process following
 * the real traffic, thinned by the rate in force, and none is charged past the budget (the
 * reservation). The controller sees the spend charged up to each slice start.
 */
function runDay(
  campaign: SyntheticCampaign,
  traffic: TrafficCurve,
  believed: TrafficCurve,
  seed: number,
  timeZone = 'UTC',
): SyntheticDay {
  const next = random(seed);
  const sut = new PacingController();
  const day: LocalDay = localDayOf(DAY + 12 * HOUR_MS, timeZone);
  const hourly = new Array<number>(Math.round((day.endMs - day.startMs) / HOUR_MS)).fill(0);
  const rates: number[] = [];
  let state: CampaignPacingState | undefined;
  let spent = 0;
  for (let start = day.startMs; start < day.endMs; start += SLICE_MS) {
    const end = start + SLICE_MS;
    state = sut.next(state, {
      day,
      budgetMicros: campaign.budgetMicros,
      spentMicros: spent,
      sliceStartMs: start,
      sliceEndMs: end,
      curve: believed,
    });
    rates.push(state.rate);
    const expected =
      (campaign.demandMicros * traffic.shareBetween(start, end) * state.rate) / campaign.priceMicros;
    const events = poisson(expected, next);
    const charged = Math.min(events, Math.floor((campaign.budgetMicros - spent) / campaign.priceMicros));
    spent += charged * campaign.priceMicros;
    hourly[Math.floor((start - day.startMs) / HOUR_MS)] += charged * campaign.priceMicros;
  }
  const hours = hourly.map((hourSpent, h) => ({
    spent: hourSpent,
    target:
      targetSpend(campaign.budgetMicros, believed, day, day.startMs + (h + 1) * HOUR_MS) -
      targetSpend(campaign.budgetMicros, believed, day, day.startMs + h * HOUR_MS),
  }));
  return { finalRatio: spent / campaign.budgetMicros, hours, rates };
}

const withinTwentyPercent = (run: SyntheticDay) =>
  run.hours.filter((h) => Math.abs(h.spent - h.target) <= 0.2 * h.target).length / run.hours.length;

/** A day of request counts drawn from the true traffic, as the serving path would have logged them. */
function loggedYesterday(traffic: TrafficCurve, requestsPerDay: number, seed: number): HourlyCount[] {
  const next = random(seed);
  return traffic.shares.map((share, hour) => ({
    hourStartMs: DAY - DAY_MS + hour * HOUR_MS,
    requests: poisson(share * requestsPerDay, next),
  }));
}

const CPM: SyntheticCampaign = { budgetMicros: 40_000_000, demandMicros: 120_000_000, priceMicros: 2_500 };
const CPC: SyntheticCampaign = { budgetMicros: 60_000_000, demandMicros: 150_000_000, priceMicros: 400_000 };

describe(PacingController.name, () => {
  const flat = TrafficCurve.flat();
  const diurnal = TrafficCurve.of(Array.from({ length: 24 }, (_, h) => diurnalWeights(h)));

  it.each([1, 2, 3])('spends a flat day at 0.95-1.00 of budget, hour by hour on target (seed %i)', (seed) => {
    const run = runDay(CPM, flat, flat, seed);

    expect(run.finalRatio).toBeGreaterThanOrEqual(0.95);
    expect(run.finalRatio).toBeLessThanOrEqual(1);
    expect(withinTwentyPercent(run)).toBeGreaterThanOrEqual(0.8);
    // A third of the demand fits the budget: the rate settles near it.
    const settled = run.rates.slice(120);
    expect(settled.reduce((a, b) => a + b, 0) / settled.length).toBeCloseTo(1 / 3, 1);
  });

  it.each([1, 2, 3])('follows a diurnal curve learnt from yesterday’s requests (seed %i)', (seed) => {
    const learnt = TrafficCurve.learn(loggedYesterday(diurnal, 20_000, seed + 100));

    const run = runDay(CPM, diurnal, learnt, seed);

    expect(run.finalRatio).toBeGreaterThanOrEqual(0.95);
    expect(run.finalRatio).toBeLessThanOrEqual(1);
    expect(withinTwentyPercent(run)).toBeGreaterThanOrEqual(0.8);
  });

  it('paces an advertiser in another time zone over its own day', () => {
    const learnt = TrafficCurve.learn(loggedYesterday(diurnal, 20_000, 7));

    const run = runDay(CPM, diurnal, learnt, 7, 'Asia/Tokyo');

    expect(run.finalRatio).toBeGreaterThanOrEqual(0.95);
    expect(withinTwentyPercent(run)).toBeGreaterThanOrEqual(0.8);
  });

  it('ends a day of few, large charges (150 clicks) within 0.95-1.00 of budget', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const run = runDay(CPC, diurnal, TrafficCurve.learn(loggedYesterday(diurnal, 20_000, seed)), seed);
      expect(run.finalRatio).toBeGreaterThanOrEqual(0.95);
      expect(run.finalRatio).toBeLessThanOrEqual(1);
    }
  });

  it('hardly throttles a campaign whose demand fits its budget', () => {
    const run = runDay({ ...CPM, demandMicros: CPM.budgetMicros * 0.7 }, flat, flat, 4);

    // Only a burst that puts it ahead of the curve early in the day slows it, for a slice.
    expect(run.rates.filter((rate) => rate === 1).length / run.rates.length).toBeGreaterThan(0.99);
    expect(run.finalRatio).toBeGreaterThan(0.6);
  });

  it('without history paces on a flat curve and still ends the diurnal day within budget', () => {
    const run = runDay(CPM, diurnal, flat, 5);

    expect(run.finalRatio).toBeGreaterThanOrEqual(0.95);
    expect(run.finalRatio).toBeLessThanOrEqual(1);
  });

  it('lets everything through until it has seen demand, and no less than the minimum rate after', () => {
    const sut = new PacingController();
    const day = localDayOf(DAY, 'UTC');
    const observe = (spentMicros: number, sliceStartMs: number) => ({
      day,
      budgetMicros: 1_000_000,
      spentMicros,
      sliceStartMs,
      sliceEndMs: sliceStartMs + SLICE_MS,
      curve: TrafficCurve.flat(),
    });

    const first = sut.next(undefined, observe(0, DAY));
    const quiet = sut.next(first, observe(0, DAY + SLICE_MS));
    const flood = sut.next(quiet, observe(900_000, DAY + 2 * SLICE_MS));

    expect([first.rate, quiet.rate]).toEqual([1, 1]);
    expect(flood.rate).toBe(DEFAULT_PACING_PARAMETERS.minRate);
    expect(sut.next(flood, observe(1_000_000, DAY + 3 * SLICE_MS)).rate).toBe(
      DEFAULT_PACING_PARAMETERS.minRate,
    );
  });

  it('keeps its demand estimate across midnight but not the spend', () => {
    const sut = new PacingController();
    const monday = localDayOf(DAY, 'UTC');
    const tuesday = localDayOf(DAY + DAY_MS, 'UTC');
    const late = DAY + DAY_MS - SLICE_MS;
    const before = sut.next(
      {
        day: monday.day,
        rate: 0.5,
        sliceStartMs: late - SLICE_MS,
        spentMicros: 0,
        demandSpend: 6e6,
        demandShare: 0.5,
      },
      {
        day: monday,
        budgetMicros: 1e7,
        spentMicros: 9e6,
        sliceStartMs: late,
        sliceEndMs: late + SLICE_MS,
        curve: TrafficCurve.flat(),
      },
    );

    const after = sut.next(before, {
      day: tuesday,
      budgetMicros: 1e7,
      spentMicros: 0,
      sliceStartMs: tuesday.startMs,
      sliceEndMs: tuesday.startMs + SLICE_MS,
      curve: TrafficCurve.flat(),
    });

    expect(after).toMatchObject({ day: tuesday.day, spentMicros: 0 });
    // The demand per day of traffic stays; it weighs as one slice, so today's first slices outweigh it.
    expect(after.demandSpend / after.demandShare).toBeCloseTo(before.demandSpend / before.demandShare, 6);
    expect(after.demandShare).toBeCloseTo(1 / 1440, 9);
    expect(after.rate).toBeLessThan(1);
  });

  it('forgets yesterday’s demand within the first hour when today brings four times the traffic', () => {
    // Yesterday's estimate says the campaign could buy twice its budget; today it could buy eight times.
    const sut = new PacingController();
    const day = localDayOf(DAY, 'UTC');
    const budget = 14_400_000;
    let state: CampaignPacingState = {
      day: '2026-03-01',
      rate: 0.5,
      sliceStartMs: DAY - SLICE_MS,
      spentMicros: budget,
      demandSpend: 2 * budget * 0.5,
      demandShare: 0.5,
    };
    let spent = 0;
    for (let start = DAY; start < DAY + HOUR_MS; start += SLICE_MS) {
      state = sut.next(state, {
        day,
        budgetMicros: budget,
        spentMicros: spent,
        sliceStartMs: start,
        sliceEndMs: start + SLICE_MS,
        curve: TrafficCurve.flat(),
      });
      spent += (8 * budget * state.rate) / 1440;
    }

    // An hour's target is 600,000 micros; spend stays within a fifth of it.
    expect(Math.abs(spent - budget / 24)).toBeLessThan(0.2 * (budget / 24));
  });

  it('refuses parameters outside their range', () => {
    expect(() => new PacingController({ ...DEFAULT_PACING_PARAMETERS, minRate: 0 })).toThrow('minRate');
    expect(() => new PacingController({ ...DEFAULT_PACING_PARAMETERS, gapClosingMs: 0 })).toThrow(
      'gapClosingMs',
    );
  });
});
