import { describe, expect, it } from '@jest/globals';
import { AliasTable, DAY_SECONDS, DIURNAL, arrivals, diurnalIntensity } from './arrivals.js';
import { DEMO_MARKETPLACE, userAt } from './marketplace.js';
import { Rng } from './rng.js';

const small = { ...DEMO_MARKETPLACE, users: 500 };

function take<T>(gen: Generator<T>, n: number): T[] {
  const out: T[] = [];
  for (const x of gen) {
    out.push(x);
    if (out.length === n) break;
  }
  return out;
}

describe('arrivals', () => {
  it('is repeatable per seed and differs across seeds', () => {
    const options = { seed: 3, population: 500, arrivalsPerDay: 5000 };
    expect(take(arrivals(small, options), 200)).toEqual(take(arrivals(small, options), 200));
    expect(take(arrivals(small, { ...options, seed: 4 }), 20)).not.toEqual(
      take(arrivals(small, options), 20),
    );
  });

  it('delivers about arrivalsPerDay a day, more in the evening peak than before dawn', () => {
    const all = take(arrivals(small, { seed: 1, population: 500, arrivalsPerDay: 20_000 }), 60_000);
    const days = all[all.length - 1].at / DAY_SECONDS;
    expect(all.length / days).toBeGreaterThan(19_000);
    expect(all.length / days).toBeLessThan(21_000);
    const byHour = new Array<number>(24).fill(0);
    for (const a of all) byHour[Math.floor((a.at % DAY_SECONDS) / 3600)]++;
    expect(byHour[20] / byHour[8]).toBeGreaterThan(3);
    expect(byHour[20] / byHour[8]).toBeLessThan(5.5);
    for (let i = 1; i < all.length; i++) expect(all[i].at).toBeGreaterThanOrEqual(all[i - 1].at);
  });

  it('brings active users back more often, in proportion to activity', () => {
    const all = take(arrivals(small, { seed: 2, population: 500, arrivalsPerDay: 10_000 }), 100_000);
    const counts = new Array<number>(500).fill(0);
    for (const a of all) counts[a.userIndex]++;
    const activity = Array.from({ length: 500 }, (_, i) => userAt(small, i).activity);
    const total = activity.reduce((s, x) => s + x, 0);
    for (const i of [0, 1, 2, 100, 499]) {
      const expected = (100_000 * activity[i]) / total;
      expect(Math.abs(counts[i] - expected)).toBeLessThan(4 * Math.sqrt(expected) + 1);
    }
  });

  it('refuses a population larger than the marketplace', () => {
    expect(() => take(arrivals(small, { seed: 1, population: 501, arrivalsPerDay: 10 }), 1)).toThrow(
      /population must be an integer in 1..500/,
    );
  });

  it('has a diurnal curve that averages 1 over a day', () => {
    let s = 0;
    for (let m = 0; m < 1440; m++) s += diurnalIntensity(m * 60);
    expect(s / 1440).toBeCloseTo(1, 6);
    expect(diurnalIntensity(DIURNAL.peakHour * 3600)).toBeCloseTo(1 + DIURNAL.amplitude, 12);
  });
});

describe(AliasTable.name, () => {
  it('draws in proportion to the weights, zero weights never', () => {
    const sut = new AliasTable([1, 0, 3, 6]);
    const rng = new Rng(1);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 100_000; i++) counts[sut.draw(rng)]++;
    expect(counts[1]).toBe(0);
    expect(counts[0] / 100_000).toBeCloseTo(0.1, 2);
    expect(counts[3] / 100_000).toBeCloseTo(0.6, 2);
    expect(() => new AliasTable([0, 0])).toThrow(/sum to zero/);
  });
});
