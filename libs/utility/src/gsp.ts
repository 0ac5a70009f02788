import type { AuctionCandidate, AuctionInput, AuctionOutcome, PricedWinner } from './auction-outcome.js';
import { ceilToMicros } from './money.js';
import { forCandidate, requireNonNegative, requireSlots } from './range-checks.js';
import {
  comparableUtility,
  DEFAULT_UTILITY_WEIGHTS,
  requireWeights,
  utility,
  valueNeededFor,
  type UtilityBreakdown,
  type UtilityWeights,
} from './utility.js';
import { priceInBidUnit } from './value-per-impression.js';

interface Ranked {
  readonly candidate: AuctionCandidate;
  readonly breakdown: UtilityBreakdown;
  readonly rankKey: number;
}

/**
 * Generalized second price over `slots` positions: one ad per advertiser (its best), ads below the
 * reserve dropped, ranked by utility (ties to the lower adId). Each winner pays the least value per
 * impression that kept its slot, max(next competitor's value, reserve), in its own bid unit.
 */
export function runGsp(input: AuctionInput): AuctionOutcome {
  const { candidates, slots, reservePerImpression } = input;
  const weights = input.weights ?? DEFAULT_UTILITY_WEIGHTS;
  requireSlots(slots);
  requireNonNegative('reservePerImpression', reservePerImpression);
  requireWeights(weights);

  const ranked = rankOnePerAdvertiser(candidates, reservePerImpression, weights);
  const winners: PricedWinner[] = [];
  for (let slot = 0; slot < Math.min(slots, ranked.length); slot++) {
    const { candidate, breakdown } = ranked[slot];
    const next = ranked[slot + 1];
    const competitorValue =
      next === undefined ? 0 : valueNeededFor(next.breakdown.utility, breakdown, weights);
    const neededValue = Math.max(competitorValue, reservePerImpression);
    const rawPrice = priceInBidUnit({
      bidType: candidate.bidType,
      valuePerImpression: neededValue,
      pCtr: candidate.pCtr,
      pCvr: candidate.pCvr,
    });
    winners.push({
      slot,
      adId: candidate.adId,
      campaignId: candidate.campaignId,
      advertiserId: candidate.advertiserId,
      bidType: candidate.bidType,
      bid: candidate.bid,
      price: Math.min(candidate.bid, ceilToMicros(rawPrice)),
      valuePerImpression: breakdown.valuePerImpression,
      utility: breakdown.utility,
      pCtr: candidate.pCtr,
      pCvr: candidate.pCvr,
    });
  }
  return {
    mechanism: 'gsp',
    winners,
    reservePerImpression,
    considered: candidates.length,
    eligible: ranked.length,
  };
}

function rankOnePerAdvertiser(
  candidates: readonly AuctionCandidate[],
  reservePerImpression: number,
  weights: UtilityWeights,
): Ranked[] {
  const reserveKey = comparableUtility(reservePerImpression);
  const scored: Ranked[] = [];
  for (const candidate of candidates) {
    const breakdown = forCandidate(candidate.adId, () => utility(candidate, weights));
    if (comparableUtility(breakdown.valuePerImpression) < reserveKey) continue;
    scored.push({ candidate, breakdown, rankKey: comparableUtility(breakdown.utility) });
  }
  scored.sort((a, b) => b.rankKey - a.rankKey || a.candidate.adId - b.candidate.adId);

  const seen = new Set<number>();
  const ranked: Ranked[] = [];
  for (const entry of scored) {
    if (seen.has(entry.candidate.advertiserId)) continue;
    seen.add(entry.candidate.advertiserId);
    ranked.push(entry);
  }
  return ranked;
}
