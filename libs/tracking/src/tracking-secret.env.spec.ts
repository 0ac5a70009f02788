import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { DEV_TRACKING_SECRET } from './signed-event-token.js';
import { refuseDevTrackingSecretInProduction, TrackingSecretEnv } from './tracking-secret.env.js';

const sut = z
  .object({ NODE_ENV: z.string().default('development'), ...TrackingSecretEnv })
  .superRefine(refuseDevTrackingSecretInProduction);

function issues(env: Record<string, string>): string[] {
  const result = sut.safeParse(env);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('TrackingSecretEnv', () => {
  it('defaults to the development secret outside production', () => {
    expect(sut.parse({}).TRACKING_SECRET).toBe(DEV_TRACKING_SECRET);
  });

  it('refuses the development secret in production, saying so', () => {
    expect(issues({ NODE_ENV: 'production' })).toEqual([
      'TRACKING_SECRET: must be set to a private secret when NODE_ENV=production',
    ]);
    expect(issues({ NODE_ENV: 'production', TRACKING_SECRET: DEV_TRACKING_SECRET })).toHaveLength(1);
    expect(issues({ NODE_ENV: 'production', TRACKING_SECRET: 'a-private-production-secret' })).toEqual([]);
  });

  it('refuses a secret shorter than 16 characters', () => {
    expect(issues({ TRACKING_SECRET: 'short' })).toEqual(['TRACKING_SECRET: must be at least 16 chars']);
  });
});
