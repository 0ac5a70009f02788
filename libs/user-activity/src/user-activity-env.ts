import { z } from 'zod';
import type { UserActivityStoreOptions } from './user-activity-store.js';
import { USER_ACTIVITY_DEFAULTS } from './user-activity.js';

const ms = (what: string) => {
  const expected = { error: `expected ${what}` };
  return z.coerce.number(expected).int(expected).min(1, expected);
};

/**
 * The variables of every service that reads or writes the activity state (logging writes it, the
 * gateway and retrieval read it), spread into its config schema; all of them must agree.
 */
export const UserActivityEnv = {
  /** Keys under `<prefix>:activity:` and `<prefix>:trending:`; one value per funnel. */
  USER_ACTIVITY_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected 1 to 64 of [A-Za-z0-9_-]' })
    .default(USER_ACTIVITY_DEFAULTS.keyPrefix),
  /** Half-life of the per-category counts. */
  USER_ACTIVITY_HALF_LIFE_MS: ms('a positive integer of milliseconds').default(
    USER_ACTIVITY_DEFAULTS.halfLifeMs,
  ),
  /** A user's state (and a country's trending set) expires this long after its last event. */
  USER_ACTIVITY_TTL_MS: ms('a positive integer of milliseconds').default(USER_ACTIVITY_DEFAULTS.ttlMs),
  /** Half-life of the clicks in the trending sets. */
  TRENDING_HALF_LIFE_MS: ms('a positive integer of milliseconds').default(
    USER_ACTIVITY_DEFAULTS.trendingHalfLifeMs,
  ),
  /** A read of the state on the serving path that has not answered by then fails; the request serves cold. */
  USER_ACTIVITY_REDIS_TIMEOUT_MS: ms('a positive integer of milliseconds').default(
    USER_ACTIVITY_DEFAULTS.redisTimeoutMs,
  ),
};

export type UserActivityConfig = z.output<z.ZodObject<typeof UserActivityEnv>>;

export function userActivityStoreOptions(config: UserActivityConfig): UserActivityStoreOptions {
  return {
    prefix: config.USER_ACTIVITY_KEY_PREFIX,
    halfLifeMs: config.USER_ACTIVITY_HALF_LIFE_MS,
    ttlMs: config.USER_ACTIVITY_TTL_MS,
    trendingHalfLifeMs: config.TRENDING_HALF_LIFE_MS,
  };
}
