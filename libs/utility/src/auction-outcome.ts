import type { BidType } from '@adfunnel/contracts';
import type { UtilityWeights } from './utility.js';

/** How winners were chosen and priced; VCG and first price will be added here. */
export const MECHANISMS = ['gsp', 'retrieval_order'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

/** An ad ranking has scored: its campaign's bid and the model's predictions. */
export interface AuctionCandidate {
  readonly adId: number;
  readonly campaignId: number;
  readonly advertiserId: number;
  readonly bidType: BidType;
  /** USD per unit of bidType (CPM: per 1000 impressions). */
  readonly bid: number;
  readonly pCtr: number;
  readonly pCvr: number;
}

/** An ad with a bid but no predictions (ranking failed or was skipped). */
export type UnscoredCandidate = Omit<AuctionCandidate, 'pCtr' | 'pCvr'>;

export interface AuctionInput {
  readonly candidates: readonly AuctionCandidate[];
  readonly slots: number;
  /** Minimum advertiser value an ad must bring, USD per impression (a 0.5 CPM floor is 0.0005). */
  readonly reservePerImpression: number;
  readonly weights?: UtilityWeights;
}

export interface PricedWinner {
  /** 0-based position. */
  readonly slot: number;
  readonly adId: number;
  readonly campaignId: number;
  readonly advertiserId: number;
  readonly bidType: BidType;
  readonly bid: number;
  /** USD per unit of bidType, rounded up to micro-dollars, never above bid. */
  readonly price: number;
  /** USD per impression, unrounded (an expectation, not a charge). */
  readonly valuePerImpression: number;
  readonly utility: number;
  /** The predictions the ad was valued with; null when it was placed without them. */
  readonly pCtr: number | null;
  readonly pCvr: number | null;
}

export interface AuctionOutcome {
  readonly mechanism: Mechanism;
  readonly winners: PricedWinner[];
  readonly reservePerImpression: number;
  /** Candidates given to the mechanism. */
  readonly considered: number;
  /** Candidates that could take a slot: meeting the reserve, and the best of their advertiser. */
  readonly eligible: number;
}
