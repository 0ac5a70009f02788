import { ServedAdEntity } from '@adfunnel/event-store';
import type { BidType } from '@adfunnel/contracts';
import { valuePerImpression, type LoggedAuction } from '@adfunnel/utility';
import type { DataSource } from 'typeorm';
import type { ServedWindow } from './slot-click-totals.js';

/** One scored top-slot winner of the served-ad log, valued as the auction valued it. */
export interface TopSlotAuction extends LoggedAuction {
  surface: string;
  bidType: BidType;
}

/**
 * The slot-0 winners ranking scored (p_ctr set), each with its value per impression, bid x pCTR
 * (x pCVR) by bid type, and its charge in the same unit (the price through the same predictions):
 * the competing bid of a second-price auction, or the reserve in force when that was higher.
 */
export async function servedTopAuctions(ds: DataSource, window: ServedWindow): Promise<TopSlotAuction[]> {
  const query = ds
    .getRepository(ServedAdEntity)
    .createQueryBuilder('s')
    .select('s.surface', 'surface')
    .addSelect('s.bidType', 'bidType')
    .addSelect('s.bid', 'bid')
    .addSelect('s.price', 'price')
    .addSelect('s.pCtr', 'pCtr')
    .addSelect('s.pCvr', 'pCvr')
    .where('s.slot = 0')
    .andWhere('s.pCtr IS NOT NULL')
    .andWhere('s.pCvr IS NOT NULL');
  if (window.since !== undefined) query.andWhere('s.servedAt >= :since', { since: window.since });
  if (window.until !== undefined) query.andWhere('s.servedAt < :until', { until: window.until });
  const rows = await query.getRawMany<Record<string, unknown>>();
  return rows.map((row) => {
    const bidType = String(row['bidType']) as BidType;
    const pCtr = Number(row['pCtr']);
    const pCvr = Number(row['pCvr']);
    const at = (amount: unknown) => valuePerImpression({ bidType, bid: Number(amount), pCtr, pCvr });
    return {
      surface: String(row['surface']),
      bidType,
      value: at(row['bid']),
      competingBid: at(row['price']),
    };
  });
}
