import type { AuctionInput, AuctionOutcome } from './auction-outcome.js';
import { outcomeOf, pricedWinner } from './priced-winner.js';
import { allocateSlots } from './slot-allocation.js';

/**
 * First price over the welfare-maximizing slot assignment (allocateSlots): every winner pays its
 * bid, in its bid unit. Bidders are expected to shade their bids; nothing here does it for them.
 */
export function runFirstPrice(input: AuctionInput): AuctionOutcome {
  const allocation = allocateSlots(input);
  const winners = allocation.placements.map((placement) =>
    pricedWinner(placement, placement.scored.candidate.bid),
  );
  return outcomeOf('first_price', input, allocation, winners);
}
