import { ConfigError, parseConfig } from '@adfunnel/platform';
import { describe, expect, it } from '@jest/globals';
import { AdvertiserConfigSchema } from './config.js';

describe('AdvertiserConfigSchema', () => {
  it('defaults to 127.0.0.1:3105 and a catalog change poll of 1 s', () => {
    expect(parseConfig(AdvertiserConfigSchema, {})).toMatchObject({
      ADVERTISER_HOST: '127.0.0.1',
      ADVERTISER_PORT: 3105,
      CATALOG_CHANGE_POLL_MS: 1000,
      RATE_LIMIT_PER_MINUTE: 0,
    });
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      parseConfig(AdvertiserConfigSchema, { ADVERTISER_PORT: 'http', ADMIN_TOKEN: 'short' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      'ADMIN_TOKEN',
      'ADVERTISER_PORT',
    ]);
    expect((error as ConfigError).message).toContain('ADVERTISER_PORT: expected a port number, got "http"');
  });
});
