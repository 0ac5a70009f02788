import { ConfigError, parseConfig } from '@adfunnel/platform';
import { describe, expect, it } from '@jest/globals';
import { AuctionConfigSchema } from './config.js';

describe('AuctionConfigSchema', () => {
  it('defaults to port 3103, a 0.50 CPM reserve and priors 0.01 / 0.05', () => {
    const sut = parseConfig(AuctionConfigSchema, {});
    expect(sut).toMatchObject({
      AUCTION_PORT: 3103,
      AUCTION_RESERVE_CPM: 0.5,
      AUCTION_PRIOR_CTR: 0.01,
      AUCTION_PRIOR_CVR: 0.05,
      CATALOG_REFRESH_MS: 60_000,
      NATS_URL: 'nats://127.0.0.1:4222',
    });
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      parseConfig(AuctionConfigSchema, {
        AUCTION_RESERVE_CPM: '-1',
        AUCTION_PRIOR_CTR: '0',
        AUCTION_PRIOR_CVR: 'x',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      'AUCTION_PRIOR_CTR',
      'AUCTION_PRIOR_CVR',
      'AUCTION_RESERVE_CPM',
    ]);
    expect((error as ConfigError).message).toContain(
      'AUCTION_PRIOR_CTR: expected a probability in (0, 1], got "0"',
    );
  });

  it('defaults the budget reservations and frequency caps, and names a bad value', () => {
    expect(parseConfig(AuctionConfigSchema, {})).toMatchObject({
      BUDGET_KEY_PREFIX: 'adfunnel',
      BUDGET_RESERVATION_MS: 900_000,
      BUDGET_REDIS_TIMEOUT_MS: 250,
      FREQUENCY_CAP_DEFAULT: 10,
      FREQUENCY_WINDOW_HOURS_DEFAULT: 24,
    });
    expect(() => parseConfig(AuctionConfigSchema, { BUDGET_RESERVATION_MS: '15min' })).toThrow(
      'BUDGET_RESERVATION_MS: expected a positive integer of milliseconds, got "15min"',
    );
  });

  it('defaults pacing to one-minute slices refreshed every second, and names a bad value', () => {
    expect(parseConfig(AuctionConfigSchema, {})).toMatchObject({
      PACING: 'on',
      PACING_SLICE_MS: 60_000,
      PACING_REFRESH_MS: 1000,
      PACING_MIN_RATE: 0.02,
      PACING_HISTORY_DAYS: 7,
      PACING_GAP_CLOSING_MS: 1_200_000,
      PACING_DEMAND_HALF_LIFE_MS: 2_700_000,
    });
    expect(() => parseConfig(AuctionConfigSchema, { PACING_SLICE_MS: '10' })).toThrow(
      'PACING_SLICE_MS: expected an integer of milliseconds from 1000 to 3600000, got "10"',
    );
    expect(() => parseConfig(AuctionConfigSchema, { PACING: 'yes' })).toThrow(
      'PACING: expected on or off, got "yes"',
    );
    expect(() => parseConfig(AuctionConfigSchema, { PACING_MIN_RATE: '0' })).toThrow(
      'PACING_MIN_RATE: expected a probability in (0, 1], got "0"',
    );
  });

  it('listens on 127.0.0.1 unless AUCTION_HOST opens it to other hosts', () => {
    expect(parseConfig(AuctionConfigSchema, {}).AUCTION_HOST).toBe('127.0.0.1');
    expect(parseConfig(AuctionConfigSchema, { AUCTION_HOST: '0.0.0.0' }).AUCTION_HOST).toBe('0.0.0.0');
  });
});
