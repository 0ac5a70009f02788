import type { BidType } from '@adfunnel/contracts';
import { eventCostMicros } from '@adfunnel/tracking';
import { usdToMicros } from '@adfunnel/utility';

export interface PricedWinner {
  readonly bidType: BidType;
  /** USD per unit of the bid type (CPM: per 1000 impressions). */
  readonly price: number;
  readonly pCtr: number;
  readonly pCvr: number;
}

/**
 * What serving reserves for one served ad, in micros: a CPM impression costs exactly price/1000; a
 * CPC or CPA ad costs only if clicked (and converted), so it reserves its expected cost. Never below
 * one micro, so every served ad holds some budget.
 */
export function reservationMicros(winner: PricedWinner): number {
  const { bidType, price, pCtr, pCvr } = winner;
  switch (bidType) {
    case 'CPM':
      // The ledger's own charge, to the micro: a reservation and its settlement never differ.
      return Math.max(1, eventCostMicros('impression', 'CPM', price));
    case 'CPC':
      return Math.max(1, usdToMicros(price * pCtr));
    case 'CPA':
      return Math.max(1, usdToMicros(price * pCtr * pCvr));
  }
}
