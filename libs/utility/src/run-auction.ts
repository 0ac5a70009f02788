import type { AuctionInput, AuctionOutcome, PricingMechanism } from './auction-outcome.js';
import { runFirstPrice } from './first-price.js';
import { runGsp } from './gsp.js';
import { runVcg } from './vcg.js';

const AUCTIONS: Record<PricingMechanism, (input: AuctionInput) => AuctionOutcome> = {
  gsp: runGsp,
  vcg: runVcg,
  first_price: runFirstPrice,
};

export function runAuction(mechanism: PricingMechanism, input: AuctionInput): AuctionOutcome {
  const auction = AUCTIONS[mechanism] as ((input: AuctionInput) => AuctionOutcome) | undefined;
  if (auction === undefined) {
    throw new RangeError(
      `mechanism must be one of ${Object.keys(AUCTIONS).join(', ')}, got ${String(mechanism)}`,
    );
  }
  return auction(input);
}
