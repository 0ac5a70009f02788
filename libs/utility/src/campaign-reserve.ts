import type { UnscoredCandidate } from './auction-outcome.js';
import { requireNonNegative } from './range-checks.js';

/**
 * The reserve one candidate faces: the higher of the surface's and its campaign's own (the catalog's
 * per-campaign reserve), in the surface reserve's unit, advertiser value in USD per examined
 * impression. A candidate whose value is below it takes no slot, and a winner is charged at least it
 * (its value reaches it, so the charge stays within its bid). The campaign's reserve is per bidder:
 * it raises that campaign's floor only, never what an empty slot is worth to the others.
 */
export function reserveFor(candidate: UnscoredCandidate, surfaceReserve: number): number {
  const own = candidate.reservePerImpression;
  if (own === undefined) return surfaceReserve;
  requireNonNegative(`candidate adId ${candidate.adId}: reservePerImpression`, own);
  return Math.max(surfaceReserve, own);
}
