import type { UserContext } from '@adfunnel/contracts';
import { type MarketplaceSpec, adAt, userAt } from '@adfunnel/simulator';
import { emptyUserActivity, foldEvent, userContextOf } from '@adfunnel/user-activity';

/** When the factory's user clicked: a fixed time, so contexts are the same on every run. */
export const KNOWN_USER_ACTIVITY_AT = Date.UTC(2026, 0, 1, 12);

/**
 * The user context the gateway builds for user `userIndex` of `spec` once logging has recorded the
 * user clicking the seeded ads at `clickedAdIndexes` (default three, picked by the user's index): the
 * country and device the user declared, the activity folded from those clicks (each ad's id,
 * advertiser and declared category, as the catalog holds them) and the category affinity inferred
 * from it. Nothing of the simulator's ground truth (its users' true interests) goes in.
 */
export function knownUserContext(
  spec: MarketplaceSpec,
  userIndex: number,
  clickedAdIndexes: readonly number[] = [0, 1, 2].map((k) => (userIndex * 7 + k * 3) % spec.ads),
): UserContext {
  const declared = userAt(spec, userIndex);
  let activity = emptyUserActivity();
  clickedAdIndexes.forEach((adIndex, k) => {
    const ad = adAt(spec, adIndex);
    const event = { adId: ad.id, advertiserId: ad.advertiserId, categoryIndex: ad.categoryIndex };
    const at = KNOWN_USER_ACTIVITY_AT + k * 60_000;
    activity = foldEvent(activity, { ...event, type: 'impression', at });
    activity = foldEvent(activity, { ...event, type: 'click', at });
  });
  const now = KNOWN_USER_ACTIVITY_AT + clickedAdIndexes.length * 60_000;
  return userContextOf(
    { userId: declared.id, country: declared.country, device: declared.device },
    activity,
    now,
  );
}
