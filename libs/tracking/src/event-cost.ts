import type { BidType, EventType } from '@adfunnel/contracts';

const BILLED_EVENT: Record<BidType, EventType> = { CPM: 'impression', CPC: 'click', CPA: 'conversion' };
const UNITS_PER_PRICE: Record<BidType, number> = { CPM: 1000, CPC: 1, CPA: 1 };

/**
 * What an event costs the advertiser, in USD: a CPM price buys 1000 impressions, a CPC price one click,
 * a CPA price one conversion; every other event is free.
 */
export function eventCost(type: EventType, bidType: BidType, price: number): number {
  if (!Number.isFinite(price) || price < 0) {
    throw new RangeError(`price must be a finite non-negative number, got ${price}`);
  }
  return BILLED_EVENT[bidType] === type ? price / UNITS_PER_PRICE[bidType] : 0;
}
