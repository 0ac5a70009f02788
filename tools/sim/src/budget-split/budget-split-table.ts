import type { Comparison } from '@adfunnel/experiments';
import type { BudgetSplitStudyResult } from './budget-split-study.js';

const usd = (x: number) => `$${x.toFixed(4)}`;
const ci = (c: Comparison, f: (x: number) => string) => `${f(c.estimate)} [${f(c.ci[0])}, ${f(c.ci[1])}]`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const pp = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} pp`;

/** The study as tables for a terminal: each design's arms, then each design's estimate and bias. */
export function formatBudgetSplitStudy(result: BudgetSplitStudyResult): string {
  const { settings } = result;
  const lines: string[] = [
    `Budget-split study: ${settings.requests} visits of ${settings.population} users, ` +
      `${settings.spec.advertisers * settings.spec.campaignsPerAdvertiser} campaigns at $${settings.budgetUsd} a day each (asap), ` +
      `control ${settings.controlSlots} ad(s) a request, treatment ${settings.treatmentSlots}`,
    '',
    `${'design'.padEnd(18)}${'arm'.padEnd(11)}${'users'.padStart(7)}${'revenue'.padStart(11)}${'rev/user'.padStart(11)}${'imps/user'.padStart(11)}${'  exhausted'}`,
  ];
  for (const run of result.runs) {
    for (const arm of run.arms) {
      lines.push(
        `${run.design.padEnd(18)}${arm.arm.padEnd(11)}${String(arm.users).padStart(7)}${`$${arm.revenue.toFixed(2)}`.padStart(11)}` +
          `${usd(arm.revenuePerUser.mean).padStart(11)}${arm.impressionsPerUser.mean.toFixed(2).padStart(11)}` +
          `  ${run.exhaustedCampaigns}/${run.spendingCampaigns}`,
      );
    }
    for (const slice of run.slices ?? []) {
      lines.push(
        `${''.padEnd(18)}slice ${slice.key}: $${slice.chargedUsd.toFixed(2)} of its $${slice.budgetUsd.toFixed(2)}, ` +
          `at most ${(slice.maxCampaignUse * 100).toFixed(1)}% of a campaign's share`,
      );
    }
  }
  const e = result.estimates;
  if (e === undefined) {
    lines.push('', 'estimates need all four designs (--designs left some out)');
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    '',
    'Treatment minus control, revenue per user (95% CI):',
    `  launch effect (global-treatment - global-control)  ${ci(e.globalEffect.difference, usd)}   lift ${ci(e.globalEffect.relativeLift, pct)}`,
    `  naive 50/50                                        ${ci(e.naive.difference, usd)}   lift ${ci(e.naive.relativeLift, pct)}`,
    `    bias                                             ${ci(e.naive.bias, usd)}   lift ${ci(e.naive.liftBias, pp)}`,
    `  budget-split 50/50                                 ${ci(e.budgetSplit.difference, usd)}   lift ${ci(e.budgetSplit.relativeLift, pct)}`,
    `    bias                                             ${ci(e.budgetSplit.bias, usd)}   lift ${ci(e.budgetSplit.liftBias, pp)}`,
    '',
    `${result.wallSeconds.toFixed(0)} s of wall time`,
  );
  return `${lines.join('\n')}\n`;
}
