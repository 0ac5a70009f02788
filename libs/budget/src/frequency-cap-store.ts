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

/** Ads served to the user at once, added to its exposure after decaying what was there. */
export interface ExposureUpdate {
  readonly ads: number;
  readonly halfLifeMs: number;
}

/** Hash fields of the exposure; a `:` keeps cappedCampaigns from reading them as campaigns. */
const EXPOSURE_COUNT = 'exposure:n';
const EXPOSURE_AT = 'exposure:at';

/**
 * A count `count` stamped at `at`, decayed by half every halfLifeMs until `now`: the user's recent
 * ad exposure. A stamp in the future (another replica's clock) is taken as now.
 */
export function decayedExposure(count: number, at: number, now: number, halfLifeMs: number): number {
  if (!(count > 0)) return 0;
  return count * 2 ** (-Math.max(0, now - at) / halfLifeMs);
}

/**
 * Serves per user and campaign in fixed windows that start at the first serve, in one Redis hash per
 * user (a count and a window start per campaign), so retrieval reads a user's whole state in one
 * HGETALL. Each campaign keeps its own window; the key expires with the longest of them. The same
 * hash holds the user's ad exposure (every ad served, campaign capped or not, as a count decayed with
 * a half-life), which the auction's fatigue term reads; it keeps the key for 10 half-lives.
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

  /** The user's ad exposure at `now` (0 for a user never served); one HMGET. */
  async exposure(userId: string, now: number, halfLifeMs: number): Promise<number> {
    const [count, at] = await this.redis.hmget(this.keys.frequency(userId), EXPOSURE_COUNT, EXPOSURE_AT);
    if (count === null) return 0;
    return decayedExposure(Number(count), at === null ? now : Number(at), now, halfLifeMs);
  }

  /**
   * Counts one serve of each campaign for the user, and adds `exposure.ads` to its exposure (one
   * script call for both).
   */
  async recordServed(
    userId: string,
    items: readonly ServedCampaign[],
    now: number,
    exposure?: ExposureUpdate,
  ): Promise<void> {
    const ads = exposure?.ads ?? 0;
    if (items.length === 0 && ads === 0) return;
    if (exposure !== undefined && !(Number.isInteger(ads) && ads >= 0 && exposure.halfLifeMs > 0)) {
      throw new RangeError(
        `exposure needs a whole number of ads >= 0 and a positive half-life, got ${ads} ads, ${exposure.halfLifeMs} ms`,
      );
    }
    const args: (string | number)[] = [now, ads, exposure?.halfLifeMs ?? 1];
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
