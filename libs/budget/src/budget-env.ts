import { z } from 'zod';
import { BUDGET_DEFAULTS } from './budget-defaults.js';
import type { FrequencyCap } from './frequency-cap-store.js';

/** An integer variable whose every error says what was expected, as the apps' own variables do. */
export function budgetEnvInteger(what: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  const expected = { error: `expected ${what}` };
  return z.coerce.number(expected).int(expected).min(min, expected).max(max, expected);
}

/** The variables every service that touches the budget state reads, spread into its config schema. */
export const BudgetEnv = {
  /** Redis keys of the budget state and frequency caps live under `<prefix>:`; one value per funnel. */
  BUDGET_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected 1 to 64 of [A-Za-z0-9_-]' })
    .default(BUDGET_DEFAULTS.keyPrefix),
  /** A budget or frequency-cap call on the serving path that has not answered by then fails. */
  BUDGET_REDIS_TIMEOUT_MS: budgetEnvInteger('a positive integer of milliseconds', 1).default(
    BUDGET_DEFAULTS.redisTimeoutMs,
  ),
};

/** The cap of campaigns that set none; retrieval enforces it and the auction counts against it. */
export const FrequencyCapEnv = {
  FREQUENCY_CAP_DEFAULT: budgetEnvInteger(
    'a non-negative integer of impressions (0: no default cap)',
    0,
  ).default(BUDGET_DEFAULTS.frequencyCap),
  FREQUENCY_WINDOW_HOURS_DEFAULT: budgetEnvInteger('a whole number of hours from 1 to 8760', 1, 8760).default(
    BUDGET_DEFAULTS.frequencyWindowHours,
  ),
};

export type BudgetConfig = z.output<z.ZodObject<typeof BudgetEnv>>;
export type FrequencyCapConfig = z.output<z.ZodObject<typeof FrequencyCapEnv>>;

export function defaultFrequencyCap(config: FrequencyCapConfig): FrequencyCap {
  return { max: config.FREQUENCY_CAP_DEFAULT, windowHours: config.FREQUENCY_WINDOW_HOURS_DEFAULT };
}
