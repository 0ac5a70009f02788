import type { BidType } from './domain.js';

/**
 * The events a served ad's tracking URLs report, one signed token each: a token is good for its own
 * endpoint only, so a leaked impression URL cannot be replayed as a click, nor a click URL as a hide.
 * A hide is the user's "not interested" on an ad they were shown: negative feedback, never billed.
 */
export const TRACKING_TOKEN_KINDS = ['impression', 'click', 'hide'] as const;
export type TrackingTokenKind = (typeof TRACKING_TOKEN_KINDS)[number];

/** What a signed tracking URL asserts; compact keys because it travels in every URL. */
export interface TrackingClaims {
  v: 1;
  /** which event this token may report */
  k: TrackingTokenKind;
  /** request id */
  r: string;
  /** user id */
  u: string;
  a: number;
  c: number;
  adv: number;
  /** slot */
  s: number;
  bt: BidType;
  /** price per unit of bid type */
  p: number;
  /** served at, epoch ms */
  t: number;
  /** expires at, epoch ms */
  exp: number;
  /** the budget slice the ad was reserved from (a budget-split experiment); absent: the whole budget */
  bs?: string;
}

export type ServedAdClaims = Omit<TrackingClaims, 'k'>;

/** The query parameter of the landing URL that carries the click id to the advertiser (like gclid). */
export const CLICK_ID_PARAM = 'adf_click_id';
