import { z } from 'zod';
import { DEV_TRACKING_SECRET, MIN_TRACKING_SECRET_LENGTH } from './signed-event-token.js';

/** TRACKING_SECRET, for the services that sign tracking tokens (gateway) and verify them (logging). */
export const TrackingSecretEnv = {
  TRACKING_SECRET: z
    .string()
    .min(MIN_TRACKING_SECRET_LENGTH, { error: `must be at least ${MIN_TRACKING_SECRET_LENGTH} chars` })
    .default(DEV_TRACKING_SECRET),
};

/** For a schema's superRefine: the published development secret must never sign money in production. */
export function refuseDevTrackingSecretInProduction(
  env: { NODE_ENV: string; TRACKING_SECRET: string },
  ctx: z.RefinementCtx,
): void {
  if (env.NODE_ENV === 'production' && env.TRACKING_SECRET === DEV_TRACKING_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['TRACKING_SECRET'],
      message: 'must be set to a private secret when NODE_ENV=production',
    });
  }
}
