import { MechanismSchema, PricingMechanismSchema, type BidType } from '@adfunnel/contracts';
import type { Diversity, DiversityCap } from './diversity.js';
import type { Examination } from './examination.js';
import type { UtilityScales, UtilityWeights } from './utility.js';

/** The auctions that rank scored ads; a surface or an experiment arm picks one (the wire's list). */
export const PRICING_MECHANISMS = PricingMechanismSchema.options;
export type PricingMechanism = (typeof PRICING_MECHANISMS)[number];

/** How winners were chosen and priced: an auction, or retrieval order when ranking gave no scores. */
export const MECHANISMS = MechanismSchema.options;
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
  /** P(hide | examined), read like pCtr; absent: no hide term. */
  readonly pHide?: number;
  /** The creative's category, for the diversity cap; absent: not counted against any. */
  readonly category?: string;
  /** The campaign's own reserve, USD of advertiser value per examined impression (reserveFor). */
  readonly reservePerImpression?: number;
}

/** An ad with a bid but no predictions (ranking failed or was skipped). */
export type UnscoredCandidate = Omit<AuctionCandidate, 'pCtr' | 'pCvr' | 'pHide'>;

export interface AuctionInput {
  readonly candidates: readonly AuctionCandidate[];
  readonly slots: number;
  /** Minimum advertiser value an ad must bring, USD per impression (a 0.5 CPM floor is 0.0005). */
  readonly reservePerImpression: number;
  readonly weights?: UtilityWeights;
  /** The money the non-bid terms are counted in; DEFAULT_UTILITY_SCALES when absent. */
  readonly scales?: UtilityScales;
  /** The user's recent ad exposure (decayed ads served); absent: unknown, no fatigue term. */
  readonly userExposure?: number;
  /** By slot; DEFAULT_EXAMINATION when absent. */
  readonly examination?: Examination;
  readonly floors?: QualityFloors;
  /** Per-advertiser and per-category caps; DEFAULT_DIVERSITY (one ad per advertiser) when absent. */
  readonly diversity?: Diversity;
  /**
   * When given, filled with what became of each candidate (a CandidateVerdict, by candidate index):
   * the caller's buffer, reused across requests, so the delivery diagnostics cost no allocation.
   */
  readonly verdicts?: Uint8Array;
}

/**
 * What an allocation did with one candidate: it took a slot, competed and lost (`outbid`: past the
 * reserve, floors and caps, but others took the slots), or was dropped before competing.
 */
export const CandidateVerdict = {
  outbid: 0,
  won: 1,
  /** Worth less than the reserve (the surface's or its campaign's own), or than an empty slot. */
  belowReserve: 2,
  /** Under a quality floor: minPCtr or minUtility. */
  belowFloor: 3,
  /** Its advertiser had maxPerAdvertiser better ads in the answer already (the advertiser cap). */
  advertiserCapped: 4,
  /**
   * Its category had maxPerCategory better ads in the answer already (the category cap), while its
   * advertiser was under its own cap (an ad past both caps is advertiserCapped).
   */
  categoryCapped: 5,
} as const;
export type CandidateVerdictCode = (typeof CandidateVerdict)[keyof typeof CandidateVerdict];

/** The verdict of a candidate a diversity cap left out. */
export function capVerdict(cap: DiversityCap): CandidateVerdictCode {
  return cap === 'advertiser' ? CandidateVerdict.advertiserCapped : CandidateVerdict.categoryCapped;
}

/** The verdicts buffer must hold one entry per candidate. */
export function requireVerdicts(verdicts: Uint8Array | undefined, candidates: number): void {
  if (verdicts !== undefined && verdicts.length < candidates) {
    throw new RangeError(`verdicts holds ${verdicts.length} entries for ${candidates} candidates`);
  }
}

/**
 * Gates on quality, not prices: an ad below either takes no slot, but one above them is priced by
 * its competitors and the reserve alone. Both 0 (off) when absent.
 */
export interface QualityFloors {
  readonly minPCtr: number;
  /** USD per examined impression (a slot-0 impression), compared with the ad's utility. */
  readonly minUtility: number;
}

export const NO_QUALITY_FLOORS: QualityFloors = Object.freeze({ minPCtr: 0, minUtility: 0 });

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
  /** USD per examined (slot-0) impression, unrounded (an expectation, not a charge). */
  readonly valuePerImpression: number;
  /** Per examined impression, like valuePerImpression. */
  readonly utility: number;
  /**
   * The slot's examination probability. A click-priced ad's expected value here is examination x
   * valuePerImpression; a CPM ad's is valuePerImpression wherever it sits.
   */
  readonly examination: number;
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
  /**
   * Candidates that could take a slot: meeting the reserve and the quality floors, and within the
   * diversity caps (by default the best of their advertiser).
   */
  readonly eligible: number;
}
