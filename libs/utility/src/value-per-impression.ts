import { BID_TYPES, type BidType } from '@adfunnel/contracts';
import { requireNonNegative, requireProbability } from './range-checks.js';

export interface BidValueInput {
  readonly bidType: BidType;
  /** USD per unit of bidType (CPM: per 1000 impressions). */
  readonly bid: number;
  readonly pCtr: number;
  /** Probability of a conversion given a click. */
  readonly pCvr: number;
}

/** The advertiser's expected value of one impression, in USD: what it would pay for it on average. */
export function valuePerImpression(input: BidValueInput): number {
  const { bidType, bid, pCtr, pCvr } = input;
  requireNonNegative('bid', bid);
  requireProbability('pCtr', pCtr);
  requireProbability('pCvr', pCvr);
  switch (bidType) {
    case 'CPM':
      return bid / 1000;
    case 'CPC':
      return bid * pCtr;
    case 'CPA':
      return bid * pCtr * pCvr;
    default:
      return unknownBidType(bidType);
  }
}

export interface BidUnitPriceInput {
  readonly bidType: BidType;
  /** USD per impression. */
  readonly valuePerImpression: number;
  readonly pCtr: number;
  readonly pCvr: number;
}

/**
 * The inverse of valuePerImpression: the price per unit of bidType (CPM: per 1000 impressions) whose
 * expected cost per impression is `valuePerImpression`. Unrounded; Infinity when a positive value
 * cannot be reached because the ad is never clicked (or never converts).
 */
export function priceInBidUnit(input: BidUnitPriceInput): number {
  const { bidType, valuePerImpression: value, pCtr, pCvr } = input;
  requireNonNegative('valuePerImpression', value);
  requireProbability('pCtr', pCtr);
  requireProbability('pCvr', pCvr);
  if (value === 0) return 0;
  switch (bidType) {
    case 'CPM':
      return value * 1000;
    case 'CPC':
      return value / pCtr;
    case 'CPA':
      return value / (pCtr * pCvr);
    default:
      return unknownBidType(bidType);
  }
}

function unknownBidType(bidType: never): never {
  throw new RangeError(`bidType must be one of ${BID_TYPES.join(', ')}, got ${String(bidType)}`);
}
