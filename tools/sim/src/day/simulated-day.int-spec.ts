import { beforeAll, describe, expect, it } from '@jest/globals';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_NATS_URL, TEST_REDIS_URL, freeBasePort } from '@adfunnel/testing';
import { SimulatedDay, type SimulatedDayResult } from './simulated-day.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/**
 * A short simulated day through the five real services (built apps, five free ports) on a scaled
 * clock: a history day of 500 visits in 15 s, then 1,200 visits in 30 s with every campaign that
 * spent given a third to a half of its demand.
 */
describe(`${SimulatedDay.name} through the real funnel`, () => {
  const lines: string[] = [];
  let result: SimulatedDayResult;

  beforeAll(async () => {
    const day = new SimulatedDay({
      root: ROOT,
      spec: { seed: 7, advertisers: 6, campaignsPerAdvertiser: 3, ads: 360, users: 600 },
      population: 600,
      historyRequests: 500,
      historySeconds: 15,
      dayRequests: 1_200,
      daySeconds: 30,
      concurrency: 8,
      slots: 3,
      // The pacing day as before organic activity: one call per visit, sent at its simulated time.
      organicPerVisit: 0,
      seed: 1,
      limitedShare: 1,
      budgetFraction: [0.33, 0.5],
      sliceSeconds: 600,
      bidTypes: 'cpm',
      pacing: 'on',
      basePort: await freeBasePort(),
      natsUrl: TEST_NATS_URL,
      redisUrl: TEST_REDIS_URL,
      keep: false,
      log: (line) => lines.push(line),
    });
    try {
      result = await day.run();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- run log ---\n${lines.join('\n')}`, { cause: error });
    }
  }, 300_000);

  it('serves both days on the funnel clock and bills the measured one on its simulated day', () => {
    expect(result.history.summary.requests).toBeGreaterThan(300);
    expect(result.measured.summary.requests).toBeGreaterThan(800);
    expect(result.measured.summary.errors).toBe(0);
    expect(result.report.day).toBe('2026-03-02');
    const charged = result.campaigns.reduce((sum, c) => sum + c.chargedMicros, 0);
    expect(charged).toBeGreaterThan(0);
  });

  it('learnt an evening-peaked traffic curve from the history day the auction counted', () => {
    // The simulator's daily cycle peaks at 20:00 UTC at four times its 08:00 trough. Six-hour windows
    // around them (about 3x apart): on a loaded machine visits leave late and the counted hours slip
    // by one or two, which moves a single hour's share but not the windows'.
    const share = (from: number, to: number) => result.curve.slice(from, to + 1).reduce((a, b) => a + b, 0);
    const [morning, evening] = [share(5, 10), share(17, 22)];
    expect(evening).toBeGreaterThan(1.5 * morning);
  });

  it('charges no campaign-day past its budget and ends the paced campaigns close to it', () => {
    expect(result.report.overspend).toEqual({ campaignDays: 0, micros: 0 });
    const paced = result.report.evenLimited;
    expect(paced.campaigns).toBeGreaterThan(2);
    expect(paced.finalRatio!.max).toBeLessThanOrEqual(1);
    expect(paced.finalRatio!.median).toBeGreaterThan(0.85);
  });

  it('spreads a budget-limited even campaign’s spend over the day rather than spending it by the morning', () => {
    const paced = result.campaigns.filter((c) => c.budgetLimited && c.pacing === 'even');
    const byNoon = paced.map((c) => c.hourlyMicros.slice(0, 12).reduce((a, b) => a + b, 0) / c.budgetMicros);
    // The curve holds about a third of the day's traffic before noon; unpaced, a third of the demand would be gone by 09:00.
    for (const share of byNoon) expect(share).toBeLessThan(0.6);
  });
});
