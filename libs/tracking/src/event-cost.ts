import type { BidType, EventType } from '@adfunnel/contracts';

const BILLED_EVENT: Record<BidType, EventType> = { CPM: 'impression', CPC: 'click', CPA: 'conversion' };
const UNITS_PER_PRICE: Record<BidType, number> = { CPM: 1000, CPC: 1, CPA: 1 };
const MICROS_PER_USD = 1_000_000;

/**
 * What an event costs the advertiser, in whole micro-dollars: a CPM price buys 1000 impressions, a CPC
 * price one click, a CPA price one conversion; every other event is free. A CPM price is a multiple
 * of a micro-dollar, so one impression costs price/1000 rounded to the nearest micro-dollar.
 */
export function eventCostMicros(type: EventType, bidType: BidType, price: number): number {
  if (!Number.isFinite(price) || price < 0) {
    throw new RangeError(`price must be a finite non-negative number, got ${price}`);
  }
  if (BILLED_EVENT[bidType] !== type) return 0;
  return Math.round((price * MICROS_PER_USD) / UNITS_PER_PRICE[bidType]);
}
