/**
 * Population-average response rates that put CPM, CPC and CPA bids on one scale for the cold-start
 * prior. The defaults are the auction's own priors (AUCTION_PRIOR_CTR / AUCTION_PRIOR_CVR), so the
 * popular list is ordered the way the auction would value those ads without predictions.
 */
export interface PriorRates {
  readonly ctr: number;
  readonly cvr: number;
}

export const DEFAULT_PRIOR_RATES: PriorRates = { ctr: 0.01, cvr: 0.05 };

export interface PricedCampaign {
  readonly id: number;
  readonly bidType: string;
  readonly bid: number;
}

/**
 * The campaign's bid as expected USD per impression at population-average rates. With no interest
 * signal for a user, that is the order that maximises expected value before ranking re-scores the
 * candidates with real predictions, and it is deterministic, so every replica returns the same list.
 */
export function valuePerImpression(campaign: PricedCampaign, rates: PriorRates): number {
  switch (campaign.bidType) {
    case 'CPM':
      return campaign.bid / 1000;
    case 'CPC':
      return campaign.bid * rates.ctr;
    case 'CPA':
      return campaign.bid * rates.ctr * rates.cvr;
    default:
      throw new RangeError(
        `campaign ${campaign.id} has unknown bid type "${campaign.bidType}" (expected CPM, CPC or CPA)`,
      );
  }
}
