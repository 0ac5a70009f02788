import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { TrackingClaims } from '@adfunnel/contracts';
import { SignedEventToken } from './signed-event-token.js';
import { TrackingTokenError, type TrackingTokenFailure } from './tracking-token.error.js';

const secret = 'unit-test-secret-0123456789';
const servedAt = Date.UTC(2026, 0, 1);

function claimsFactory(overrides: Partial<TrackingClaims> = {}): TrackingClaims {
  return {
    v: 1,
    k: 'click',
    r: 'req-1',
    u: 'u00001',
    a: 42,
    c: 7,
    adv: 3,
    s: 0,
    bt: 'CPC',
    p: 0.35,
    t: servedAt,
    exp: servedAt + 3_600_000,
    ...overrides,
  };
}

function failureOf(run: () => unknown): { reason: TrackingTokenFailure; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof TrackingTokenError) return { reason: error.reason, message: error.message };
    throw error;
  }
  throw new Error('expected a TrackingTokenError');
}

function flipChar(s: string, index: number): string {
  const c = s[index];
  return s.slice(0, index) + (c === 'A' ? 'B' : 'A') + s.slice(index + 1);
}

describe(SignedEventToken.name, () => {
  const sut = SignedEventToken;

  it('round-trips the claims of a token it signed', () => {
    const claims = claimsFactory();
    const token = sut.sign(claims, secret);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sut.verify(token, secret, servedAt + 1000, 'click')).toEqual(claims);
  });

  it('refuses a token whose claims were altered', () => {
    const token = sut.sign(claimsFactory({ p: 0.35 }), secret);
    const [, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify(claimsFactory({ p: 0.01 }))).toString('base64url');
    expect(failureOf(() => sut.verify(`${forged}.${signature}`, secret, servedAt, 'click'))).toEqual({
      reason: 'bad_signature',
      message: 'tracking token signature does not match',
    });
  });

  it('refuses a token with a tampered signature or signed with another secret', () => {
    const token = sut.sign(claimsFactory(), secret);
    const dot = token.indexOf('.');
    expect(failureOf(() => sut.verify(flipChar(token, dot + 5), secret, servedAt, 'click')).reason).toBe(
      'bad_signature',
    );
    expect(failureOf(() => sut.verify(token, 'another-secret-0123456789', servedAt, 'click')).reason).toBe(
      'bad_signature',
    );
  });

  it('refuses a token whose last signature char was changed without changing the decoded bytes', () => {
    const token = sut.sign(claimsFactory(), secret);
    // 32 bytes take 43 chars whose last char carries 2 unused bits; a lenient decoder would accept this.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(token.at(-1)!) ^ 1];
    const tampered = token.slice(0, -1) + sibling;
    expect(Buffer.from(tampered.split('.')[1], 'base64url')).toEqual(
      Buffer.from(token.split('.')[1], 'base64url'),
    );
    expect(failureOf(() => sut.verify(tampered, secret, servedAt, 'click'))).toEqual({
      reason: 'malformed',
      message: 'tracking token signature is not canonical base64url',
    });
  });

  it('refuses an expired token and says when it expired', () => {
    const claims = claimsFactory();
    const token = sut.sign(claims, secret);
    expect(failureOf(() => sut.verify(token, secret, claims.exp, 'click'))).toEqual({
      reason: 'expired',
      message: `tracking token expired at ${new Date(claims.exp).toISOString()}`,
    });
    expect(sut.verify(token, secret, claims.exp - 1, 'click')).toEqual(claims);
  });

  it('refuses a click token on the impression endpoint and an impression token on the click endpoint', () => {
    const click = sut.sign(claimsFactory({ k: 'click' }), secret);
    const impression = sut.sign(claimsFactory({ k: 'impression' }), secret);
    expect(failureOf(() => sut.verify(click, secret, servedAt, 'impression'))).toEqual({
      reason: 'wrong_type',
      message: 'tracking token is a click token, not an impression token',
    });
    expect(failureOf(() => sut.verify(impression, secret, servedAt, 'click'))).toEqual({
      reason: 'wrong_type',
      message: 'tracking token is an impression token, not a click token',
    });
    expect(sut.verify(impression, secret, servedAt, 'impression').k).toBe('impression');
  });

  it('calls a tampered token of the other kind bad_signature, not wrong_type', () => {
    const token = sut.sign(claimsFactory({ k: 'impression' }), secret);
    const [, signature] = token.split('.');
    const relabelled = Buffer.from(JSON.stringify(claimsFactory({ k: 'click' }))).toString('base64url');
    expect(failureOf(() => sut.verify(`${relabelled}.${signature}`, secret, servedAt, 'click')).reason).toBe(
      'bad_signature',
    );
  });

  it('refuses a signed token without a kind as malformed', () => {
    const { k: _k, ...kindless } = claimsFactory();
    const payload = Buffer.from(JSON.stringify(kindless)).toString('base64url');
    const mac = createHmac('sha256', secret).update(payload).digest('base64url');
    const failure = failureOf(() => sut.verify(`${payload}.${mac}`, secret, servedAt, 'click'));
    expect(failure.reason).toBe('malformed');
    expect(failure.message).toMatch(/claims are invalid: k:/);
  });

  it.each([
    ['an empty token', '', /missing/],
    ['one part', 'abc', /two dot-separated parts/],
    ['three parts', 'a.b.c', /two dot-separated parts/],
    ['a non-base64url payload', 'ab$.cd', /payload is not base64url/],
    ['an oversized token', 'x'.repeat(3000), /longer than/],
  ])('calls %s malformed', (_label, token, message) => {
    const failure = failureOf(() => sut.verify(token, secret, servedAt, 'click'));
    expect(failure.reason).toBe('malformed');
    expect(failure.message).toMatch(message);
  });

  it('refuses correctly signed claims that break the schema', () => {
    const payload = Buffer.from(JSON.stringify({ ...claimsFactory(), v: 2, extra: true })).toString(
      'base64url',
    );
    const mac = createHmac('sha256', secret).update(payload).digest('base64url');
    const failure = failureOf(() => sut.verify(`${payload}.${mac}`, secret, servedAt, 'click'));
    expect(failure.reason).toBe('malformed');
    expect(failure.message).toMatch(/claims are invalid: .*v/);
  });

  it('will not sign invalid claims or use a short secret', () => {
    expect(() => sut.sign(claimsFactory({ a: -1 }), secret)).toThrow(/invalid tracking claims: a:/);
    expect(() => sut.sign(claimsFactory({ exp: servedAt }), secret)).toThrow(/exp must be after t/);
    expect(() => sut.sign(claimsFactory(), 'short')).toThrow(/at least 16 chars/);
  });
});
