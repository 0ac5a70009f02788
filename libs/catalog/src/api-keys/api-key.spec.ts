import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { API_KEY_PREFIX, apiKeyHash, generateApiKey, isApiKeyFormat, isApiKeyHash } from './api-key.js';

describe(generateApiKey.name, () => {
  it('makes adf_live_ keys of 32 random bytes in base64url, never the same twice', () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey());
    for (const key of keys) {
      expect(key).toMatch(/^adf_live_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(key.slice(API_KEY_PREFIX.length), 'base64url')).toHaveLength(32);
      expect(isApiKeyFormat(key)).toBe(true);
    }
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe(apiKeyHash.name, () => {
  it('is the lower-case hex SHA-256 of the whole key', () => {
    const key = generateApiKey();
    const sut = apiKeyHash(key);
    expect(sut).toBe(createHash('sha256').update(key).digest('hex'));
    expect(isApiKeyHash(sut)).toBe(true);
    expect(apiKeyHash(key)).toBe(sut);
  });

  it('changes entirely when one character of the key changes', () => {
    const key = generateApiKey();
    const other = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect(apiKeyHash(other)).not.toBe(apiKeyHash(key));
  });
});

describe(isApiKeyFormat.name, () => {
  it.each([
    ['no prefix', 'x'.repeat(52)],
    ['a test prefix', `adf_test_${'A'.repeat(43)}`],
    ['a short secret', `adf_live_${'A'.repeat(42)}`],
    ['a long secret', `adf_live_${'A'.repeat(44)}`],
    ['padding', `adf_live_${'A'.repeat(42)}=`],
    ['whitespace', ` adf_live_${'A'.repeat(43)}`],
    ['nothing', ''],
  ])('refuses %s', (_label, key) => {
    expect(isApiKeyFormat(key)).toBe(false);
  });
});

describe(isApiKeyHash.name, () => {
  it('accepts only 64 lower-case hex characters', () => {
    expect(isApiKeyHash('a'.repeat(64))).toBe(true);
    expect(isApiKeyHash('A'.repeat(64))).toBe(false);
    expect(isApiKeyHash('a'.repeat(63))).toBe(false);
    expect(isApiKeyHash(generateApiKey())).toBe(false);
  });
});
