import type { UserContext } from '@adfunnel/contracts';
import { type MarketplaceSpec, userAt } from '@adfunnel/simulator';

/** The user context the gateway builds for a stored user of `spec` (its profile, as seeded). */
export function knownUserContext(spec: MarketplaceSpec, userIndex: number): UserContext {
  const user = userAt(spec, userIndex);
  return {
    userId: user.id,
    country: user.country,
    device: user.device,
    interests: Array.from(user.interests),
    known: true,
  };
}
