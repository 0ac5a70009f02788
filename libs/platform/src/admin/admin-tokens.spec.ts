import { describe, expect, it } from '@jest/globals';
import { AdminTokens, bearerTokenOf } from './admin-tokens.js';

describe(AdminTokens.name, () => {
  it('accepts any of its tokens and nothing else', () => {
    const sut = new AdminTokens(['first-token-of-24-characters', undefined, 'second-token-of-24-chars']);

    expect(sut.configured).toBe(true);
    expect(sut.accepts('first-token-of-24-characters')).toBe(true);
    expect(sut.accepts('second-token-of-24-chars')).toBe(true);
    expect(sut.accepts('first-token-of-24-character')).toBe(false);
    expect(sut.accepts('')).toBe(false);
  });

  it('is not configured, and accepts nothing, without tokens', () => {
    const sut = new AdminTokens([undefined]);

    expect(sut.configured).toBe(false);
    expect(sut.accepts('')).toBe(false);
  });
});

describe(bearerTokenOf.name, () => {
  it('reads the token of a Bearer header, undefined when absent, null when malformed', () => {
    expect(bearerTokenOf('Bearer abc')).toBe('abc');
    expect(bearerTokenOf(undefined)).toBeUndefined();
    expect(bearerTokenOf('')).toBeUndefined();
    expect(bearerTokenOf('Basic abc')).toBeNull();
    expect(bearerTokenOf('Bearer a b')).toBeNull();
    expect(bearerTokenOf(['Bearer abc'])).toBeNull();
  });
});
