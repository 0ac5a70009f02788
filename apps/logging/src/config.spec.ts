import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '@adfunnel/platform';
import { LoggingConfigSchema } from './config.js';

describe('LoggingConfigSchema', () => {
  const sut = (env: Record<string, string>) => parseConfig(LoggingConfigSchema, env);

  const TRACKING_SECRET = 'a-private-secret-of-forty-characters-long';

  it('has the documented defaults beside a tracking secret of its own', () => {
    expect(sut({ TRACKING_SECRET })).toMatchObject({
      TRACKING_PREVIOUS_SECRETS: [],
      LOGGING_PORT: 3104,
      LOGGING_QUEUE_PREFIX: 'adfunnel',
      CATALOG_REFRESH_MS: 60_000,
    });
  });

  it('refuses to run without a tracking secret, in development too', () => {
    expect(() => sut({})).toThrow(ConfigError);
    expect(() => sut({ NODE_ENV: 'production' })).toThrow(/TRACKING_SECRET: is not set: /);
    expect(sut({ NODE_ENV: 'production', TRACKING_SECRET }).TRACKING_SECRET).toBe(TRACKING_SECRET);
    expect(() => sut({ NODE_ENV: 'production', TRACKING_SECRET: 'a-dev-length-secret' })).toThrow(
      /TRACKING_SECRET: must be at least 32 chars when NODE_ENV=production/,
    );
  });

  it('takes the previous secrets of a rotation as a comma-separated list', () => {
    expect(
      sut({ TRACKING_SECRET, TRACKING_PREVIOUS_SECRETS: 'the-first-old-secret,the-second-old-secret' })
        .TRACKING_PREVIOUS_SECRETS,
    ).toEqual(['the-first-old-secret', 'the-second-old-secret']);
    expect(() => sut({ TRACKING_SECRET, TRACKING_PREVIOUS_SECRETS: 'short' })).toThrow(
      /TRACKING_PREVIOUS_SECRETS.0: must be at least 16 chars/,
    );
  });

  it('names each bad variable', () => {
    expect(() =>
      sut({ TRACKING_SECRET: 'short', LOGGING_CONCURRENCY: '0', LOGGING_QUEUE_PREFIX: 'a b' }),
    ).toThrow(
      /TRACKING_SECRET: must be at least 16 chars.*LOGGING_QUEUE_PREFIX.*LOGGING_CONCURRENCY: expected a positive integer/,
    );
  });

  it("takes a dead worker's jobs up again after 30 s unless told sooner, and never below a second", () => {
    expect(sut({ TRACKING_SECRET }).LOGGING_STALLED_MS).toBe(30_000);
    expect(sut({ TRACKING_SECRET, LOGGING_STALLED_MS: '2000' }).LOGGING_STALLED_MS).toBe(2000);
    expect(() => sut({ TRACKING_SECRET, LOGGING_STALLED_MS: '200' })).toThrow(
      /LOGGING_STALLED_MS: expected an integer of milliseconds from 1000/,
    );
  });

  it('listens on 127.0.0.1 unless LOGGING_HOST opens it to other hosts', () => {
    expect(sut({ TRACKING_SECRET }).LOGGING_HOST).toBe('127.0.0.1');
    expect(sut({ TRACKING_SECRET, LOGGING_HOST: '0.0.0.0' }).LOGGING_HOST).toBe('0.0.0.0');
  });
});
