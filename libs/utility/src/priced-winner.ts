import type { AuctionInput, AuctionOutcome, PricingMechanism, PricedWinner } from './auction-outcome.js';
import { ceilToMicros } from './money.js';
import type { Placement, SlotAllocation } from './slot-allocation.js';
import { priceInBidUnit } from './value-per-impression.js';

/**
 * A placement charged `value` USD per examined impression (per impression for CPM), or its campaign's
 * own reserve if that is more (reserveFor), converted to its bid unit, rounded up to micros and
 * capped at the bid.
 */
export function chargeValue(placement: Placement, value: number): PricedWinner {
  const { candidate } = placement.scored;
  const raw = priceInBidUnit({
    bidType: candidate.bidType,
    valuePerImpression: Math.max(0, value, candidate.reservePerImpression ?? 0),
    pCtr: candidate.pCtr,
    pCvr: candidate.pCvr,
  });
  return pricedWinner(placement, Math.min(candidate.bid, ceilToMicros(raw)));
}

export function pricedWinner(placement: Placement, price: number): PricedWinner {
  const { candidate, breakdown } = placement.scored;
  return {
    slot: placement.slot,
    adId: candidate.adId,
    campaignId: candidate.campaignId,
    advertiserId: candidate.advertiserId,
    bidType: candidate.bidType,
    bid: candidate.bid,
    price,
    valuePerImpression: breakdown.valuePerImpression,
    utility: breakdown.utility,
    examination: placement.examination,
    pCtr: candidate.pCtr,
    pCvr: candidate.pCvr,
  };
}

export function outcomeOf(
  mechanism: PricingMechanism,
  input: AuctionInput,
  allocation: SlotAllocation,
  winners: PricedWinner[],
): AuctionOutcome {
  return {
    mechanism,
    winners,
    reservePerImpression: input.reservePerImpression,
    considered: input.candidates.length,
    eligible: allocation.eligible,
  };
}
