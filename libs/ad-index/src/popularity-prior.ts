import { BID_TYPES, type BidType } from '@adfunnel/contracts';
import { valuePerImpression, type PredictionPriors } from '@adfunnel/utility';

export interface PricedCampaign {
  readonly id: number;
  /** Unchecked: the catalog stores it as text, so a bad row is caught here, naming the campaign. */
  readonly bidType: string;
  readonly bid: number;
}

/**
 * The campaign's bid as expected USD per impression at population-average rates: with no interest
 * signal for a user, that is the order that maximises expected value before ranking re-scores the
 * candidates with real predictions, and it is deterministic, so every replica returns the same list.
 * With the auction's priors it orders the popular list the way the auction would value those ads.
 */
export function priorValuePerImpression(campaign: PricedCampaign, priors: PredictionPriors): number {
  const { id, bidType, bid } = campaign;
  if (!isBidType(bidType)) {
    throw new RangeError(
      `campaign ${id} has unknown bid type "${bidType}" (expected ${BID_TYPES.join(', ')})`,
    );
  }
  return valuePerImpression({ bidType, bid, pCtr: priors.pCtr, pCvr: priors.pCvr });
}

function isBidType(value: string): value is BidType {
  return (BID_TYPES as readonly string[]).includes(value);
}
