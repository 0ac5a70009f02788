import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import {
  TrackingPreviousSecretsEnv,
  TrackingSecretEnv,
  refuseWeakTrackingSecretInProduction,
} from './tracking-secret.env.js';

const sut = z
  .object({
    NODE_ENV: z.string().default('development'),
    ...TrackingSecretEnv,
    ...TrackingPreviousSecretsEnv,
  })
  .superRefine(refuseWeakTrackingSecretInProduction);
const CURRENT = 'a-private-current-secret';

function problems(env: Record<string, string>): string[] {
  const result = sut.safeParse(env);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('TrackingSecretEnv', () => {
  it('has no default: a missing secret is refused, saying how to get one', () => {
    expect(problems({})).toEqual([
      'TRACKING_SECRET: is not set: set it to a private value of at least 16 chars (openssl rand -hex 24), or start the funnel through npm start, which generates one under var/',
    ]);
  });

  it('refuses the development secret this repository once published', () => {
    expect(problems({ TRACKING_SECRET: 'adfunnel-dev-tracking-secret-do-not-use-in-production' })).toEqual([
      'TRACKING_SECRET: is the development secret published in this repository: set a private one',
    ]);
  });

  it('refuses a secret shorter than 16 characters', () => {
    expect(problems({ TRACKING_SECRET: 'short' })).toEqual(['TRACKING_SECRET: must be at least 16 chars']);
  });
});

describe(refuseWeakTrackingSecretInProduction.name, () => {
  it('asks production for 32 chars or more, development for 16', () => {
    expect(problems({ TRACKING_SECRET: 'x'.repeat(16) })).toEqual([]);
    expect(problems({ NODE_ENV: 'production', TRACKING_SECRET: 'x'.repeat(31) })).toEqual([
      'TRACKING_SECRET: must be at least 32 chars when NODE_ENV=production (openssl rand -hex 24)',
    ]);
    expect(problems({ NODE_ENV: 'production', TRACKING_SECRET: 'x'.repeat(32) })).toEqual([]);
  });

  it('leaves the previous secrets alone, so a rotation can retire a short one', () => {
    expect(
      problems({
        NODE_ENV: 'production',
        TRACKING_SECRET: 'x'.repeat(32),
        TRACKING_PREVIOUS_SECRETS: 'y'.repeat(16),
      }),
    ).toEqual([]);
  });
});

describe('TrackingPreviousSecretsEnv', () => {
  it('is empty when unset and splits a comma-separated list', () => {
    expect(sut.parse({ TRACKING_SECRET: CURRENT }).TRACKING_PREVIOUS_SECRETS).toEqual([]);
    expect(
      sut.parse({
        TRACKING_SECRET: CURRENT,
        TRACKING_PREVIOUS_SECRETS: ' first-previous-secret , ,second-previous-secret',
      }).TRACKING_PREVIOUS_SECRETS,
    ).toEqual(['first-previous-secret', 'second-previous-secret']);
  });

  it('names the previous secret that is too short', () => {
    expect(
      problems({ TRACKING_SECRET: CURRENT, TRACKING_PREVIOUS_SECRETS: 'first-previous-secret,short' }),
    ).toEqual(['TRACKING_PREVIOUS_SECRETS.1: must be at least 16 chars']);
  });
});
