import type { BidType } from './domain.js';

/** What a signed tracking URL asserts; compact keys because it travels in every URL. */
export interface TrackingClaims {
  v: 1;
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
}
