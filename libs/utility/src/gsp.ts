import type { AuctionInput, AuctionOutcome } from './auction-outcome.js';
import { examinationAt } from './examination.js';
import { chargeValue, outcomeOf } from './priced-winner.js';
import {
  allocateSlots,
  impressionOrReserve,
  type Placement,
  type SlotAllocation,
} from './slot-allocation.js';
import { criticalValue } from './utility.js';

/**
 * Generalized second price over the welfare-maximizing slot assignment (allocateSlots): one ad per
 * advertiser, ads below the reserve or a quality floor dropped. Each winner pays the least bid that
 * keeps its slot, in its own bid unit, which is max(next competitor, reserve) once positions are
 * counted (utilities u, c for click-priced ads, q for CPM ads, e = examination, m click slots):
 * - the click ad in slot s needs u >= c_{s+1} (the next click ad) and e[s] u >= q_{slots-s-1} (the
 *   CPM ad or reserve it keeps out of the page): it pays max(c_{s+1}, q_{slots-s-1} / e[s]) per
 *   examined impression, so a reserve-bound ad low on the page pays reserve / e[s];
 * - the CPM ad j-th among CPM ads needs u >= q_{j+1} (the next one, or the reserve), and, in the
 *   last slot, u > e[m] c_m (the click ad that would take its slot).
 * With no CPM ads and no binding reserve this is the classic rule: pay the next ad's value. The
 * threshold is a utility; criticalValue turns it into the advertiser value that reaches it (the
 * ad's own non-bid terms count toward it) and keeps it at or above the reserve.
 */
export function runGsp(input: AuctionInput): AuctionOutcome {
  const allocation = allocateSlots(input);
  const winners = allocation.placements.map((placement) =>
    chargeValue(
      placement,
      criticalValue(
        gspThreshold(allocation, placement),
        placement.scored.breakdown,
        allocation.weights,
        input.reservePerImpression,
      ),
    ),
  );
  return outcomeOf('gsp', input, allocation, winners);
}

/** The least utility per examined impression (per impression for CPM) that keeps the placement's slot. */
function gspThreshold(allocation: SlotAllocation, placement: Placement): number {
  const { clicks, impressions, reserveUtility, slots, clickSlots, examination } = allocation;
  if (placement.kind === 'click') {
    const s = placement.slot;
    const nextClick = clicks[s + 1] ?? 0;
    const keptOut = impressionOrReserve(impressions, slots - s - 1, reserveUtility);
    return Math.max(nextClick, keptOut / placement.examination);
  }
  const j = placement.rank;
  const next = impressionOrReserve(impressions, j + 1, reserveUtility);
  const inLastSlot = placement.slot === slots - 1;
  const clickBelow =
    inLastSlot && clickSlots < clicks.length
      ? examinationAt(examination, clickSlots) * clicks[clickSlots]
      : 0;
  return Math.max(next, clickBelow);
}
