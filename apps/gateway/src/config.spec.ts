import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '@adfunnel/platform';
import { GatewayConfigSchema, parseGatewayConfig } from './config.js';

describe('GatewayConfigSchema', () => {
  const TRACKING_SECRET = 'a-private-secret-of-forty-characters-long';

  it('has working defaults for a local run', () => {
    const sut = parseConfig(GatewayConfigSchema, { TRACKING_SECRET });
    expect(sut).toMatchObject({ GATEWAY_PORT: 3100, GATEWAY_DEADLINE_MS: 250, RETRIEVAL_CANDIDATES: 200 });
  });

  it('points tracking URLs at logging on this host, following LOGGING_PORT, unless TRACKING_BASE_URL is set', () => {
    expect(parseGatewayConfig({ TRACKING_SECRET }).TRACKING_BASE_URL).toBe('http://127.0.0.1:3104');
    expect(parseGatewayConfig({ TRACKING_SECRET, LOGGING_PORT: '4104' }).TRACKING_BASE_URL).toBe(
      'http://127.0.0.1:4104',
    );
    expect(
      parseGatewayConfig({
        TRACKING_SECRET,
        LOGGING_PORT: '4104',
        TRACKING_BASE_URL: 'https://t.example.com',
      }).TRACKING_BASE_URL,
    ).toBe('https://t.example.com');
  });

  it('sheds ad requests by default, and each signal can be turned off with 0', () => {
    expect(parseConfig(GatewayConfigSchema, { TRACKING_SECRET })).toMatchObject({
      GATEWAY_MAX_IN_FLIGHT: 64,
      GATEWAY_TARGET_LATENCY_MS: 50,
      GATEWAY_MAX_EVENT_LOOP_DELAY_MS: 50,
    });
    expect(
      parseConfig(GatewayConfigSchema, {
        TRACKING_SECRET,
        GATEWAY_MAX_IN_FLIGHT: '0',
        GATEWAY_TARGET_LATENCY_MS: '0',
        GATEWAY_MAX_EVENT_LOOP_DELAY_MS: '0',
      }),
    ).toMatchObject({
      GATEWAY_MAX_IN_FLIGHT: 0,
      GATEWAY_TARGET_LATENCY_MS: 0,
      GATEWAY_MAX_EVENT_LOOP_DELAY_MS: 0,
    });
    expect(() => parseConfig(GatewayConfigSchema, { TRACKING_SECRET, GATEWAY_MAX_IN_FLIGHT: '-1' })).toThrow(
      /GATEWAY_MAX_IN_FLIGHT: expected a non-negative integer \(0: no limit\), got "-1"/,
    );
  });

  it('names the variable that is wrong', () => {
    expect(() => parseConfig(GatewayConfigSchema, { TRACKING_SECRET, GATEWAY_DEADLINE_MS: 'soon' })).toThrow(
      ConfigError,
    );
    try {
      parseConfig(GatewayConfigSchema, {
        TRACKING_SECRET,
        GATEWAY_DEADLINE_MS: 'soon',
        TRACKING_BASE_URL: 'not a url',
      });
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
        'GATEWAY_DEADLINE_MS',
        'TRACKING_BASE_URL',
      ]);
    }
  });

  it('wants the served record give-up time longer than its timeout, three times it by default', () => {
    expect(parseGatewayConfig({ TRACKING_SECRET })).toMatchObject({
      SERVED_RECORD_TIMEOUT_MS: 100,
      SERVED_RECORD_GIVE_UP_MS: 300,
    });
    expect(parseGatewayConfig({ TRACKING_SECRET, SERVED_RECORD_TIMEOUT_MS: '10000' })).toMatchObject({
      SERVED_RECORD_GIVE_UP_MS: 30_000,
    });
    expect(() =>
      parseConfig(GatewayConfigSchema, {
        TRACKING_SECRET,
        SERVED_RECORD_TIMEOUT_MS: '200',
        SERVED_RECORD_GIVE_UP_MS: '200',
      }),
    ).toThrow(/SERVED_RECORD_GIVE_UP_MS.*must be more than SERVED_RECORD_TIMEOUT_MS \(200\), got 200/s);
  });

  it('refuses to start without a tracking secret, in development too', () => {
    for (const NODE_ENV of ['development', 'production']) {
      expect(() => parseConfig(GatewayConfigSchema, { NODE_ENV })).toThrow(
        /TRACKING_SECRET: is not set: .*npm start, which generates one under var\//,
      );
    }
    expect(parseConfig(GatewayConfigSchema, { NODE_ENV: 'production', TRACKING_SECRET }).NODE_ENV).toBe(
      'production',
    );
  });

  it('refuses a tracking secret shorter than 32 chars in production only', () => {
    const short = { TRACKING_SECRET: 'sixteen-chars-ok' };
    expect(parseConfig(GatewayConfigSchema, short).TRACKING_SECRET).toBe('sixteen-chars-ok');
    expect(() => parseConfig(GatewayConfigSchema, { ...short, NODE_ENV: 'production' })).toThrow(
      /TRACKING_SECRET: must be at least 32 chars when NODE_ENV=production/,
    );
  });
});
