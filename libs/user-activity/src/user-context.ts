import type { Device, UserActivity, UserContext } from '@adfunnel/contracts';
import { categoryAffinity } from './category-affinity.js';
import { USER_ACTIVITY_DEFAULTS, hasActivity } from './user-activity.js';

/** What the request itself says about the user: who, and the country and device it comes from. */
export interface DeclaredUser {
  readonly userId: string;
  readonly country: string;
  readonly device: Device;
}

/**
 * The UserContext serving passes to every stage: the declared attributes, `interests` the category
 * affinity of the activity at `now`, `known` whether there is any activity, and the activity itself
 * (absent for a user without any). What the gateway builds for each request.
 */
export function userContextOf(
  declared: DeclaredUser,
  activity: UserActivity | null | undefined,
  now: number,
  halfLifeMs: number = USER_ACTIVITY_DEFAULTS.halfLifeMs,
): UserContext {
  const known = hasActivity(activity);
  return {
    userId: declared.userId,
    country: declared.country,
    device: declared.device,
    interests: categoryAffinity(activity, now, halfLifeMs),
    known,
    ...(known ? { activity } : {}),
  };
}
