import type { FrequencyCap } from './frequency-cap-store.js';

/** Defaults of the budget and frequency-cap settings; every service that shares the state uses them. */
export const BUDGET_DEFAULTS = {
  /** Redis keys live under `<prefix>:`. */
  keyPrefix: 'adfunnel',
  /** How often retrieval reloads the exhausted campaigns. */
  refreshMs: 250,
  /** An impression that has not been charged by then gives its reservation back. */
  reservationMs: 15 * 60_000,
  /**
   * A budget or frequency-cap call on the serving path fails after this long: a backstop for a hung
   * Redis, not a latency target (it counts event-loop delay too, which a busy process has plenty of).
   */
  redisTimeoutMs: 250,
  frequencyCap: 10,
  frequencyWindowHours: 24,
} as const;

/** The campaign fields that set its cap; absent or null means the default. */
export interface CappedCampaign {
  readonly frequencyCap?: number | null;
  readonly frequencyWindowHours?: number | null;
}

/**
 * The cap in force for a campaign: its own, else the default; undefined when neither caps it (a
 * default of 0 impressions means "no default cap").
 */
export function frequencyCapOf(campaign: CappedCampaign, fallback: FrequencyCap): FrequencyCap | undefined {
  const max = campaign.frequencyCap ?? fallback.max;
  if (!(max > 0)) return undefined;
  return { max, windowHours: campaign.frequencyWindowHours ?? fallback.windowHours };
}
