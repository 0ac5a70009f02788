import { beforeAll, describe, expect, it } from '@jest/globals';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_NATS_URL, TEST_REDIS_URL, freeBasePort } from '@adfunnel/testing';
import { BudgetSplitStudy, type BudgetSplitStudyResult, type DesignRun } from './budget-split-study.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/**
 * The naive and the budget-split design of an ad-load experiment (one ad a request against three),
 * each through the five real services on a funnel of its own: 2,400 visits of 800 users in 30 s of
 * wall time, 18 campaigns at $0.40 a day, so budgets bind in both.
 */
describe(`${BudgetSplitStudy.name} through the real funnel`, () => {
  const lines: string[] = [];
  let result: BudgetSplitStudyResult;
  const run = (design: DesignRun['design']) => result.runs.find((r) => r.design === design)!;
  const arm = (design: DesignRun['design'], name: 'control' | 'treatment') =>
    run(design).arms.find((a) => a.arm === name)!;

  beforeAll(async () => {
    const study = new BudgetSplitStudy({
      root: ROOT,
      spec: { seed: 7, advertisers: 6, campaignsPerAdvertiser: 3, ads: 360, users: 800 },
      population: 800,
      requests: 2_400,
      daySeconds: 30,
      budgetUsd: 0.4,
      controlSlots: 1,
      treatmentSlots: 3,
      designs: ['naive', 'budget-split'],
      concurrency: 8,
      slots: 3,
      organicPerVisit: 0,
      seed: 1,
      basePort: await freeBasePort(),
      natsUrl: TEST_NATS_URL,
      redisUrl: TEST_REDIS_URL,
      keep: false,
      log: (line) => lines.push(line),
    });
    try {
      result = await study.run();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- study log ---\n${lines.join('\n')}`, { cause: err });
    }
  }, 600_000);

  it('holds each arm of the budget-split design to its half of every budget', () => {
    const slices = run('budget-split').slices!;
    expect(slices.map((s) => s.key)).toEqual(['load:ads/control', 'load:ads/treatment']);
    for (const slice of slices) {
      expect(slice.chargedUsd).toBeGreaterThan(0);
      // The ledger holds a campaign-day to its budget; serving holds each slice to its share of it.
      expect(slice.maxCampaignUse).toBeLessThanOrEqual(1 + 1e-9);
    }
    // Budgets bind: some campaign used (nearly) all of the treatment's slice.
    expect(slices[1].maxCampaignUse).toBeGreaterThan(0.9);
  });

  it("lets the naive design's treatment take its control's money, and budget-split not", () => {
    // The treatment shows three ads where control shows one; under the naive design it spends the
    // shared budgets first, so its revenue per user is far above control's.
    const naiveLift = arm('naive', 'treatment').revenue / arm('naive', 'control').revenue;
    const splitLift = arm('budget-split', 'treatment').revenue / arm('budget-split', 'control').revenue;
    expect(naiveLift).toBeGreaterThan(1.4);
    expect(splitLift).toBeLessThan(naiveLift - 0.3);
    // With its own half of every budget, control sells more than when it shared them.
    expect(arm('budget-split', 'control').revenue).toBeGreaterThan(arm('naive', 'control').revenue);
    expect(result.estimates).toBeUndefined();
  });
});
