import type { Redis } from 'ioredis';
import { BudgetKeys } from './budget-keys.js';
import { RECORD_SERVED } from './budget-scripts.js';

const HOUR_MS = 3_600_000;

/** At most `max` serves of a campaign to one user per window of `windowHours`. */
export interface FrequencyCap {
  readonly max: number;
  readonly windowHours: number;
}

export interface ServedCampaign {
  readonly campaignId: number;
  readonly windowHours: number;
}

/**
 * Serves per user and campaign in fixed windows that start at the first serve, in one Redis hash per
 * user (a count and a window start per campaign), so retrieval reads a user's whole state in one
 * HGETALL. Each campaign keeps its own window; the key expires with the longest of them.
 */
export class FrequencyCapStore {
  readonly keys: BudgetKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new BudgetKeys(prefix);
  }

  /** Campaigns the user has been served `max` times within their current window. */
  async cappedCampaigns(
    userId: string,
    caps: ReadonlyMap<number, FrequencyCap>,
    now: number,
  ): Promise<Set<number>> {
    const capped = new Set<number>();
    if (caps.size === 0) return capped;
    const state = await this.redis.hgetall(this.keys.frequency(userId));
    for (const [field, value] of Object.entries(state)) {
      if (field.includes(':')) continue;
      const campaignId = Number(field);
      const cap = caps.get(campaignId);
      if (cap === undefined || Number(value) < cap.max) continue;
      const since = Number(state[`${field}:since`]);
      if (now < since + cap.windowHours * HOUR_MS) capped.add(campaignId);
    }
    return capped;
  }

  /** Counts one serve of each campaign for the user (one script call). */
  async recordServed(userId: string, items: readonly ServedCampaign[], now: number): Promise<void> {
    if (items.length === 0) return;
    const args: (string | number)[] = [now];
    for (const item of items) {
      if (!Number.isSafeInteger(item.campaignId)) {
        throw new RangeError(`campaign id must be an integer, got ${item.campaignId}`);
      }
      if (!(item.windowHours > 0)) {
        throw new RangeError(
          `campaign ${item.campaignId}: window must be positive hours, got ${item.windowHours}`,
        );
      }
      args.push(item.campaignId, Math.round(item.windowHours * HOUR_MS));
    }
    await RECORD_SERVED.run(this.redis, [this.keys.frequency(userId)], args);
  }
}
