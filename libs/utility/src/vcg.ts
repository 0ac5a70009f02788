import type { AuctionInput, AuctionOutcome } from './auction-outcome.js';
import { chargeValue, outcomeOf } from './priced-winner.js';
import { criticalValue } from './utility.js';
import { allocateSlots, kindLists, welfare, type Placement, type SlotAllocation } from './slot-allocation.js';

/**
 * Vickrey-Clarke-Groves over the welfare-maximizing slot assignment (allocateSlots): each winner
 * pays the utility its presence costs the others, W(without it) - (W - its own slot utility), with
 * empty slots worth the reserve (VCG with the reserve as a bidder of unlimited supply). For click
 * ads alone and no reserve this is the textbook sum over the slots below,
 *   sum_{k>s} (e[k-1] - e[k]) c_k   (e[slots] = 0, c_k = 0 past the last ad),
 * and the ad pays it divided by e[s] per examined impression. Truthful: bidding one's value is a
 * dominant strategy, and the charge never exceeds the ad's utility in its slot. The welfare without
 * an ad reruns the diversity caps without it, so an ad its advertiser's or category's cap kept out
 * competes for its slot. Under caps tighter than one per advertiser the allocation is greedy (see
 * allocateSlots), so the externality can exceed the ad's own value; the price is then its bid.
 */
export function runVcg(input: AuctionInput): AuctionOutcome {
  const allocation = allocateSlots(input);
  const total = welfareOf(allocation, allocation.clicks, allocation.impressions);
  const winners = allocation.placements.map((placement) => {
    const othersWithIt = total - placement.slotUtility;
    const payment = Math.max(0, welfareWithout(allocation, placement) - othersWithIt);
    const perExamined = placement.kind === 'click' ? payment / placement.examination : payment;
    // The ad gives back its externality less its own non-bid terms: (perExamined - otherTerms) / w_adv.
    const { breakdown } = placement.scored;
    return chargeValue(
      placement,
      criticalValue(perExamined, breakdown, allocation.weights, input.reservePerImpression),
    );
  });
  return outcomeOf('vcg', input, allocation, winners);
}

function welfareWithout(allocation: SlotAllocation, placement: Placement): number {
  const { clicks, impressions } = kindLists(
    allocation.pool,
    allocation.diversity,
    allocation.slots,
    placement.scored,
  );
  return welfareOf(allocation, clicks, impressions);
}

function welfareOf(
  allocation: SlotAllocation,
  clicks: readonly number[],
  impressions: readonly number[],
): number {
  return welfare(clicks, impressions, allocation.reserveUtility, allocation.examination, allocation.slots);
}
