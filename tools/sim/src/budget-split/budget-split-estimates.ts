import { type Comparison, type Moments, compareMeans, moments, zComparison } from '@adfunnel/experiments';

/** The four ways one ad-load experiment is run, each on a funnel of its own with the same traffic. */
export const BUDGET_SPLIT_DESIGNS = ['global-control', 'global-treatment', 'naive', 'budget-split'] as const;
export type BudgetSplitDesign = (typeof BUDGET_SPLIT_DESIGNS)[number];

/** One arm of one design: its users' per-user outcomes of the day (every user of the population, visiting or not). */
export interface ArmUsers {
  readonly arm: 'control' | 'treatment';
  /** Charged revenue per user, USD. */
  readonly revenue: readonly number[];
  readonly impressions: readonly number[];
}

export interface ArmSummary {
  readonly arm: 'control' | 'treatment';
  readonly users: number;
  readonly revenuePerUser: Moments;
  readonly impressionsPerUser: Moments;
  readonly revenue: number;
}

export interface EffectEstimate {
  /** Treatment minus control revenue per user, USD, with Welch's CI. */
  readonly difference: Comparison;
  /** Treatment / control - 1. */
  readonly relativeLift: Comparison;
}

export interface DesignBias {
  /** The design's estimate minus the global effect, USD per user (independent runs: the variances add). */
  readonly bias: Comparison;
  /** The design's relative lift minus the global relative lift. */
  readonly liftBias: Comparison;
}

export interface BudgetSplitEstimates {
  /**
   * The effect of launching the treatment to everyone: global-treatment's revenue per user minus
   * global-control's, two runs that each give all traffic (and all of every budget) to one arm.
   */
  readonly globalEffect: EffectEstimate;
  /** What each 50/50 experiment estimates, and how far that is from the global effect. */
  readonly naive: EffectEstimate & DesignBias;
  readonly budgetSplit: EffectEstimate & DesignBias;
}

export function summarizeArm(users: ArmUsers): ArmSummary {
  return {
    arm: users.arm,
    users: users.revenue.length,
    revenuePerUser: moments(users.revenue),
    impressionsPerUser: moments(users.impressions),
    revenue: users.revenue.reduce((sum, x) => sum + x, 0),
  };
}

/**
 * The cannibalization bias of a naive marketplace A/B test and of a budget-split one: each design's
 * treatment-minus-control revenue per user against the global effect (all traffic on treatment
 * against all traffic on control). With budgets that bind, the naive design's treatment takes money
 * its control would have spent, so its estimate overstates the global effect; budget-split gives
 * each arm its own share of every budget and should not.
 */
export function budgetSplitEstimates(
  arms: Readonly<Record<BudgetSplitDesign, readonly ArmSummary[]>>,
): BudgetSplitEstimates {
  const armOf = (design: BudgetSplitDesign, arm: 'control' | 'treatment'): ArmSummary => {
    const found = arms[design].find((a) => a.arm === arm);
    if (found === undefined) throw new RangeError(`design ${design} has no ${arm} arm`);
    return found;
  };
  const effect = (control: ArmSummary, treatment: ArmSummary): EffectEstimate => {
    const compared = compareMeans(control.revenuePerUser, treatment.revenuePerUser);
    return { difference: compared.difference, relativeLift: compared.relativeLift };
  };
  const globalEffect = effect(armOf('global-control', 'control'), armOf('global-treatment', 'treatment'));
  const against = (design: 'naive' | 'budget-split'): EffectEstimate & DesignBias => {
    const estimate = effect(armOf(design, 'control'), armOf(design, 'treatment'));
    return {
      ...estimate,
      bias: differenceOf(estimate.difference, globalEffect.difference),
      liftBias: differenceOf(estimate.relativeLift, globalEffect.relativeLift),
    };
  };
  return { globalEffect, naive: against('naive'), budgetSplit: against('budget-split') };
}

/** a - b of two independent estimates, with a normal CI. */
function differenceOf(a: Comparison, b: Comparison): Comparison {
  return zComparison(a.estimate - b.estimate, Math.hypot(a.standardError, b.standardError));
}
