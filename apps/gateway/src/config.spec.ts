import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '@adfunnel/platform';
import { GatewayConfigSchema } from './config.js';

describe('GatewayConfigSchema', () => {
  it('has working defaults for a local run', () => {
    const sut = parseConfig(GatewayConfigSchema, {});
    expect(sut).toMatchObject({ GATEWAY_PORT: 3100, GATEWAY_DEADLINE_MS: 250, RETRIEVAL_CANDIDATES: 200 });
  });

  it('names the variable that is wrong', () => {
    expect(() => parseConfig(GatewayConfigSchema, { GATEWAY_DEADLINE_MS: 'soon' })).toThrow(ConfigError);
    try {
      parseConfig(GatewayConfigSchema, { GATEWAY_DEADLINE_MS: 'soon', TRACKING_BASE_URL: 'not a url' });
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
        'GATEWAY_DEADLINE_MS',
        'TRACKING_BASE_URL',
      ]);
    }
  });

  it('refuses the development tracking secret in production', () => {
    expect(() => parseConfig(GatewayConfigSchema, { NODE_ENV: 'production' })).toThrow(/TRACKING_SECRET/);
    expect(
      parseConfig(GatewayConfigSchema, {
        NODE_ENV: 'production',
        TRACKING_SECRET: 'a-real-secret-of-some-length',
      }).NODE_ENV,
    ).toBe('production');
  });
});
