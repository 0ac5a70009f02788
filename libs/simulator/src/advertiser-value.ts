import type { BidType } from '@adfunnel/contracts';
import { type MarketplaceSpec, campaignAt, campaignCount } from './marketplace.js';
import { Rng } from './rng.js';

/**
 * What a conversion is worth to the advertiser (ground truth, never in the catalog). Advertisers bid
 * below value: a CPA bid (the target CPA) is value / margin; CPC and CPM bids are value scaled by the
 * rates the advertiser assumes (assumedCvr, assumedCtr x assumedCvr) and divided by the margin.
 *   margin = 1 + marginMedian * exp(marginSigma * N(0, 1))   (always > 1)
 *   value  = margin * bid                                 (CPA)
 *          = margin * bid / assumedCvr                    (CPC)
 *          = margin * (bid / 1000) / (assumedCtr * assumedCvr)   (CPM)
 */
export const ADVERTISER_VALUE = {
  assumedCtr: 0.04,
  assumedCvr: 0.15,
  marginMedian: 0.3,
  marginSigma: 0.5,
} as const;

export interface CampaignEconomics {
  campaignId: number;
  bidType: BidType;
  bid: number;
  /** USD the advertiser gains per conversion. */
  valuePerConversion: number;
  /** value / bid-implied value per conversion; > 1. */
  margin: number;
}

export function campaignEconomicsAt(spec: MarketplaceSpec, campaignIndex: number): CampaignEconomics {
  const campaign = campaignAt(spec, campaignIndex);
  // A stream of its own: adding this left every existing campaign field unchanged.
  const rng = Rng.derive(spec.seed, 'campaign-value', campaignIndex);
  const margin = 1 + rng.logNormal(ADVERTISER_VALUE.marginMedian, ADVERTISER_VALUE.marginSigma);
  return {
    campaignId: campaign.id,
    bidType: campaign.bidType,
    bid: campaign.bid,
    // Rounded up to the cent, so a CPA bid stays strictly below the value.
    valuePerConversion: Math.ceil(margin * bidImpliedValue(campaign.bidType, campaign.bid) * 100) / 100,
    margin,
  };
}

/** What one conversion must be worth for the bid to break even at the advertiser's assumed rates. */
export function bidImpliedValue(bidType: BidType, bid: number): number {
  switch (bidType) {
    case 'CPA':
      return bid;
    case 'CPC':
      return bid / ADVERTISER_VALUE.assumedCvr;
    case 'CPM':
      return bid / 1000 / (ADVERTISER_VALUE.assumedCtr * ADVERTISER_VALUE.assumedCvr);
  }
}

export function* campaignEconomics(spec: MarketplaceSpec): Generator<CampaignEconomics> {
  for (let i = 0; i < campaignCount(spec); i++) yield campaignEconomicsAt(spec, i);
}
