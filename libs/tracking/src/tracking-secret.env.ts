import { z } from 'zod';
import { MIN_TRACKING_SECRET_LENGTH } from './tracking-keyring.js';

/**
 * The development default this repository once shipped: anyone can read it in the history, so it
 * can forge clicks wherever it is configured.
 */
const PUBLISHED_TRACKING_SECRET = 'adfunnel-dev-tracking-secret-do-not-use-in-production';

const trackingSecret = z
  .string()
  .min(MIN_TRACKING_SECRET_LENGTH, { error: `must be at least ${MIN_TRACKING_SECRET_LENGTH} chars` })
  .refine((secret) => secret !== PUBLISHED_TRACKING_SECRET, {
    error: 'is the development secret published in this repository: set a private one',
  });

/**
 * TRACKING_SECRET, for the services that sign tracking tokens (gateway) and verify them (logging).
 * There is no default, in development either: a shared default would let anyone forge clicks.
 */
export const TrackingSecretEnv = {
  TRACKING_SECRET: trackingSecret.optional().transform((secret, ctx) => {
    if (secret !== undefined) return secret;
    ctx.addIssue({
      code: 'custom',
      message: `is not set: set it to a private value of at least ${MIN_TRACKING_SECRET_LENGTH} chars (openssl rand -hex 24), or start the funnel through npm start, which generates one under var/`,
    });
    return z.NEVER;
  }),
};

/**
 * TRACKING_PREVIOUS_SECRETS, for the verifier (logging): comma-separated secrets that no longer sign
 * but whose tokens are accepted until they expire, so a rotation loses no click.
 */
export const TrackingPreviousSecretsEnv = {
  TRACKING_PREVIOUS_SECRETS: z
    .string()
    .optional()
    .transform((list) => (list ?? '').split(',').flatMap((s) => (s.trim() === '' ? [] : [s.trim()])))
    .pipe(z.array(trackingSecret)),
};

/** 32 characters of `openssl rand -hex` or base64 carry 128 bits or more: beyond an offline search from one token. */
export const MIN_PRODUCTION_TRACKING_SECRET_LENGTH = 32;

/** For a schema's superRefine: production signs money, so its current secret must be long, not just present. */
export function refuseWeakTrackingSecretInProduction(
  env: { NODE_ENV: string; TRACKING_SECRET: string },
  ctx: z.RefinementCtx,
): void {
  if (env.NODE_ENV === 'production' && env.TRACKING_SECRET.length < MIN_PRODUCTION_TRACKING_SECRET_LENGTH) {
    ctx.addIssue({
      code: 'custom',
      path: ['TRACKING_SECRET'],
      message: `must be at least ${MIN_PRODUCTION_TRACKING_SECRET_LENGTH} chars when NODE_ENV=production (openssl rand -hex 24)`,
    });
  }
}
