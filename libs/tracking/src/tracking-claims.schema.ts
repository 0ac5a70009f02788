import { z } from 'zod';
import { BidTypeSchema, TRACKING_TOKEN_KINDS, type TrackingClaims } from '@adfunnel/contracts';

const positiveId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const epochMs = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** What a token may assert: exactly the keys of `TrackingClaims`, nothing more. */
export const TrackingClaimsSchema: z.ZodType<TrackingClaims> = z
  .strictObject({
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
  })
  .refine((claims) => claims.exp > claims.t, { message: 'exp must be after t', path: ['exp'] });

export function describeClaimIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}
