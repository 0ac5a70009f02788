import { ConfigError, parseConfig } from '@adfunnel/platform';
import { describe, expect, it } from '@jest/globals';
import { RetrievalConfigSchema } from './config.js';

describe('RetrievalConfigSchema', () => {
  it('defaults the budget state and frequency caps', () => {
    expect(parseConfig(RetrievalConfigSchema, {})).toMatchObject({
      BUDGET_KEY_PREFIX: 'adfunnel',
      BUDGET_REFRESH_MS: 250,
      BUDGET_REDIS_TIMEOUT_MS: 250,
      FREQUENCY_CAP_DEFAULT: 10,
      FREQUENCY_WINDOW_HOURS_DEFAULT: 24,
    });
  });

  it('accepts 0 as "no default frequency cap"', () => {
    expect(parseConfig(RetrievalConfigSchema, { FREQUENCY_CAP_DEFAULT: '0' }).FREQUENCY_CAP_DEFAULT).toBe(0);
  });

  it('names every bad budget variable and what it expected', () => {
    let error: unknown;
    try {
      parseConfig(RetrievalConfigSchema, {
        BUDGET_KEY_PREFIX: 'has:colon',
        BUDGET_REFRESH_MS: '0',
        BUDGET_REDIS_TIMEOUT_MS: 'fast',
        FREQUENCY_CAP_DEFAULT: '-1',
        FREQUENCY_WINDOW_HOURS_DEFAULT: '1.5',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { issues, message } = error as ConfigError;
    expect(issues.map((i) => i.variable).sort()).toEqual([
      'BUDGET_KEY_PREFIX',
      'BUDGET_REDIS_TIMEOUT_MS',
      'BUDGET_REFRESH_MS',
      'FREQUENCY_CAP_DEFAULT',
      'FREQUENCY_WINDOW_HOURS_DEFAULT',
    ]);
    expect(message).toContain('BUDGET_KEY_PREFIX: expected 1 to 64 of [A-Za-z0-9_-]');
    expect(message).toContain('BUDGET_REFRESH_MS: expected a positive integer of milliseconds, got "0"');
    expect(message).toContain(
      'FREQUENCY_WINDOW_HOURS_DEFAULT: expected a whole number of hours from 1 to 8760, got "1.5"',
    );
  });

  it('listens on 127.0.0.1 unless RETRIEVAL_HOST opens it to other hosts', () => {
    expect(parseConfig(RetrievalConfigSchema, {}).RETRIEVAL_HOST).toBe('127.0.0.1');
    expect(parseConfig(RetrievalConfigSchema, { RETRIEVAL_HOST: '0.0.0.0' }).RETRIEVAL_HOST).toBe('0.0.0.0');
  });
});
