import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '@adfunnel/platform';
import { DEV_TRACKING_SECRET } from '@adfunnel/tracking';
import { LoggingConfigSchema } from './config.js';

describe('LoggingConfigSchema', () => {
  const sut = (env: Record<string, string>) => parseConfig(LoggingConfigSchema, env);

  it('falls back to the dev secret and the documented defaults outside production', () => {
    expect(sut({})).toMatchObject({
      TRACKING_SECRET: DEV_TRACKING_SECRET,
      LOGGING_PORT: 3104,
      LOGGING_QUEUE_PREFIX: 'adfunnel',
      CATALOG_REFRESH_MS: 60_000,
    });
  });

  it('refuses to run production without a private tracking secret', () => {
    expect(() => sut({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => sut({ NODE_ENV: 'production' })).toThrow(/TRACKING_SECRET: must be set to a private secret/);
    expect(
      sut({ NODE_ENV: 'production', TRACKING_SECRET: 'a-long-enough-prod-secret' }).TRACKING_SECRET,
    ).toBe('a-long-enough-prod-secret');
  });

  it('names each bad variable', () => {
    expect(() =>
      sut({ TRACKING_SECRET: 'short', LOGGING_CONCURRENCY: '0', LOGGING_QUEUE_PREFIX: 'a b' }),
    ).toThrow(
      /TRACKING_SECRET: must be at least 16 chars.*LOGGING_QUEUE_PREFIX.*LOGGING_CONCURRENCY: expected a positive integer/,
    );
  });

  it("takes a dead worker's jobs up again after 30 s unless told sooner, and never below a second", () => {
    expect(sut({}).LOGGING_STALLED_MS).toBe(30_000);
    expect(sut({ LOGGING_STALLED_MS: '2000' }).LOGGING_STALLED_MS).toBe(2000);
    expect(() => sut({ LOGGING_STALLED_MS: '200' })).toThrow(
      /LOGGING_STALLED_MS: expected an integer of milliseconds from 1000/,
    );
  });
});
