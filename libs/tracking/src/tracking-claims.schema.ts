import { z } from 'zod';
import {
  BidTypeSchema,
  BudgetSliceSchema,
  TRACKING_TOKEN_KINDS,
  type TrackingClaims,
} from '@adfunnel/contracts';
import { TRACKING_KEY_ID } from './tracking-keyring.js';

const positiveId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const epochMs = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const claimsShape = {
  v: z.literal(1),
  k: z.enum(TRACKING_TOKEN_KINDS),
  r: z.string().min(1).max(128),
  u: z.string().min(1).max(64),
  a: positiveId,
  c: positiveId,
  adv: positiveId,
  s: z.number().int().min(0).max(99),
  bt: BidTypeSchema,
  p: z.number().finite().min(0),
  t: epochMs,
  exp: epochMs,
  bs: BudgetSliceSchema.shape.key.optional(),
};
const expAfterT = (claims: { t: number; exp: number }) => claims.exp > claims.t;
const EXP_AFTER_T = { message: 'exp must be after t', path: ['exp'] };

/** What a token may assert: exactly the keys of `TrackingClaims`, nothing more. */
export const TrackingClaimsSchema: z.ZodType<TrackingClaims> = z
  .strictObject(claimsShape)
  .refine(expAfterT, EXP_AFTER_T);

/**
 * A token's payload: the claims and `kid`, the id of the key that signed them. Tokens signed before
 * key ids existed have none.
 */
export const SignedClaimsSchema: z.ZodType<TrackingClaims & { kid?: string | undefined }> = z
  .strictObject({
    ...claimsShape,
    kid: z.string().regex(TRACKING_KEY_ID, { error: 'expected 8 lowercase hex digits' }).optional(),
  })
  .refine(expAfterT, EXP_AFTER_T);

export function describeClaimIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}
