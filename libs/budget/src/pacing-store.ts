import type { CampaignPacingState, HourlyCount } from '@adfunnel/pacing';
import type { Redis } from 'ioredis';
import { BudgetKeys } from './budget-keys.js';
import { COMMIT_SLICE, LOCK_SLICE, UNLOCK_SLICE } from './pacing-scripts.js';

const HOUR_MS = 3_600_000;
/** Request counts are kept for learning the traffic curve over a week, plus a day of margin. */
const REQUEST_COUNT_TTL_SECONDS = 8 * 24 * 3600;
/** Rates and states outlive a quiet weekend; each commit renews them. */
const PACING_TTL_SECONDS = 3 * 24 * 3600;

/** What every replica applies to a campaign: pass-through `rate` until `validUntilMs` (its day's end). */
export interface PacingRate {
  readonly rate: number;
  readonly validUntilMs: number;
}

export interface PacingUpdate {
  readonly campaignId: number;
  readonly rate: PacingRate;
  readonly state: CampaignPacingState;
}

/**
 * The pacing state the auction replicas share in Redis: request counts per UTC hour (the traffic
 * curve is learnt from them), the rate of each paced campaign, and the controller's state behind it.
 * One replica computes each time slice's rates, under a short lock, and commits them all at once.
 */
export class PacingStore {
  readonly keys: BudgetKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new BudgetKeys(prefix);
  }

  /** Adds requests per hour (hour start in epoch ms -> requests), in one round trip. */
  async countRequests(counts: ReadonlyMap<number, number>): Promise<void> {
    if (counts.size === 0) return;
    const pipeline = this.redis.multi();
    for (const [hourStartMs, requests] of counts) {
      if (!Number.isSafeInteger(requests) || requests < 0) {
        throw new RangeError(`a request count must be a non-negative integer, got ${requests}`);
      }
      const key = this.keys.pacingRequests(hourStartMs);
      pipeline.incrby(key, requests).expire(key, REQUEST_COUNT_TTL_SECONDS);
    }
    await pipeline.exec();
  }

  /** The logged request counts of the hours in [fromMs, toMs), hours nobody counted left out. */
  async requestCounts(fromMs: number, toMs: number): Promise<HourlyCount[]> {
    const hours: number[] = [];
    for (let hour = Math.ceil(fromMs / HOUR_MS) * HOUR_MS; hour < toMs; hour += HOUR_MS) hours.push(hour);
    if (hours.length === 0) return [];
    const values = await this.redis.mget(...hours.map((hour) => this.keys.pacingRequests(hour)));
    const counts: HourlyCount[] = [];
    hours.forEach((hourStartMs, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) counts.push({ hourStartMs, requests: Number(value) });
    });
    return counts;
  }

  async rates(): Promise<Map<number, PacingRate>> {
    const rates = new Map<number, PacingRate>();
    for (const [field, value] of Object.entries(await this.redis.hgetall(this.keys.pacingRates()))) {
      const [rate, validUntilMs] = value.split('@').map(Number);
      if (Number.isFinite(rate) && Number.isFinite(validUntilMs)) {
        rates.set(Number(field), { rate: rate, validUntilMs: validUntilMs });
      }
    }
    return rates;
  }

  async states(): Promise<Map<number, CampaignPacingState>> {
    const states = new Map<number, CampaignPacingState>();
    for (const [field, value] of Object.entries(await this.redis.hgetall(this.keys.pacingStates()))) {
      const state = parseState(value);
      if (state !== undefined) states.set(Number(field), state);
    }
    return states;
  }

  /** The last slice whose rates were committed; undefined before the first. */
  async lastSlice(): Promise<number | undefined> {
    const value = await this.redis.get(this.keys.pacingSlice());
    return value === null ? undefined : Number(value);
  }

  /** True when this caller (`owner`) may compute `slice`: nobody has committed it and nobody holds the lock. */
  async lockSlice(slice: number, owner: string, ttlMs: number): Promise<boolean> {
    const taken = await LOCK_SLICE.run(
      this.redis,
      [this.keys.pacingLock(), this.keys.pacingSlice()],
      [owner, slice, ttlMs],
    );
    return taken === 1;
  }

  /** Gives the lock back early, when the update it was taken for failed. */
  async unlockSlice(owner: string): Promise<void> {
    await UNLOCK_SLICE.run(this.redis, [this.keys.pacingLock()], [owner]);
  }

  /** Replaces every rate and state with `updates`; false (nothing written) if the lock was lost. */
  async commitSlice(slice: number, owner: string, updates: readonly PacingUpdate[]): Promise<boolean> {
    const args: (string | number)[] = [owner, slice, PACING_TTL_SECONDS];
    for (const { campaignId, rate, state } of updates) {
      if (!Number.isSafeInteger(campaignId))
        throw new RangeError(`campaign id must be an integer, got ${campaignId}`);
      args.push(campaignId, `${rate.rate}@${rate.validUntilMs}`, JSON.stringify(state));
    }
    const committed = await COMMIT_SLICE.run(
      this.redis,
      [this.keys.pacingLock(), this.keys.pacingSlice(), this.keys.pacingRates(), this.keys.pacingStates()],
      args,
    );
    return committed === 1;
  }
}

function parseState(value: string): CampaignPacingState | undefined {
  try {
    const state = JSON.parse(value) as Partial<CampaignPacingState>;
    const numbers = [state.rate, state.sliceStartMs, state.spentMicros, state.demandSpend, state.demandShare];
    if (typeof state.day !== 'string' || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      return undefined;
    }
    return state as CampaignPacingState;
  } catch {
    return undefined;
  }
}
