import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { TRACKING_TOKEN_KINDS, type TrackingClaims, type TrackingTokenKind } from '@adfunnel/contracts';
import { SignedEventToken } from './signed-event-token.js';
import { TrackingKeyring, trackingKeyId } from './tracking-keyring.js';
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

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** A token as the gateway signed it before key ids: the same format, without `kid`. */
function kidlessToken(claims: TrackingClaims, withSecret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${createHmac('sha256', withSecret).update(payload).digest('base64url')}`;
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

  it('names the signing key in the token', () => {
    expect(payloadOf(sut.sign(claimsFactory(), secret))['kid']).toBe(trackingKeyId(secret));
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
      'unknown_key',
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

  it('accepts a hide token only on the hide endpoint, and no other token there', () => {
    const tokens = Object.fromEntries(
      TRACKING_TOKEN_KINDS.map((k) => [k, sut.sign(claimsFactory({ k }), secret)]),
    ) as Record<TrackingTokenKind, string>;
    expect(sut.verify(tokens.hide, secret, servedAt, 'hide').k).toBe('hide');
    expect(failureOf(() => sut.verify(tokens.impression, secret, servedAt, 'hide'))).toEqual({
      reason: 'wrong_type',
      message: 'tracking token is an impression token, not a hide token',
    });
    expect(failureOf(() => sut.verify(tokens.click, secret, servedAt, 'hide'))).toEqual({
      reason: 'wrong_type',
      message: 'tracking token is a click token, not a hide token',
    });
    expect(failureOf(() => sut.verify(tokens.hide, secret, servedAt, 'impression')).reason).toBe(
      'wrong_type',
    );
    expect(failureOf(() => sut.verify(tokens.hide, secret, servedAt, 'click')).message).toBe(
      'tracking token is a hide token, not a click token',
    );
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

  describe('across a rotation', () => {
    const previous = 'the-previous-secret-0123';
    const current = 'the-current-secret-45678';
    const rotated = new TrackingKeyring(current, [previous]);

    it('accepts tokens signed with the current or a previous secret until they expire', () => {
      const claims = claimsFactory();
      const before = sut.sign(claims, previous);
      const after = sut.sign(claims, current);
      expect(sut.verify(before, rotated, servedAt, 'click')).toEqual(claims);
      expect(sut.verify(after, rotated, servedAt, 'click')).toEqual(claims);
      expect(failureOf(() => sut.verify(before, rotated, claims.exp, 'click')).reason).toBe('expired');
    });

    it('refuses a token whose key is neither current nor previous, naming it', () => {
      const retired = sut.sign(claimsFactory(), previous);
      expect(failureOf(() => sut.verify(retired, new TrackingKeyring(current), servedAt, 'click'))).toEqual({
        reason: 'unknown_key',
        message: `tracking token was signed with key ${trackingKeyId(previous)}, which is neither the current key (${trackingKeyId(current)}) nor a previous one: a retired or foreign secret`,
      });
      const forged = sut.sign(claimsFactory({ p: 1_000_000 }), 'a-forger-guessed-secret');
      expect(failureOf(() => sut.verify(forged, rotated, servedAt, 'click')).reason).toBe('unknown_key');
    });

    it('refuses a forgery that claims a known key id', () => {
      const payload = Buffer.from(
        JSON.stringify({ ...claimsFactory({ p: 1_000_000 }), kid: trackingKeyId(current) }),
      ).toString('base64url');
      const mac = createHmac('sha256', 'a-forger-guessed-secret').update(payload).digest('base64url');
      expect(failureOf(() => sut.verify(`${payload}.${mac}`, rotated, servedAt, 'click')).reason).toBe(
        'bad_signature',
      );
    });

    it('refuses a token whose kid was swapped for another known key', () => {
      const token = sut.sign(claimsFactory(), previous);
      const [, signature] = token.split('.');
      const relabelled = Buffer.from(
        JSON.stringify({ ...payloadOf(token), kid: trackingKeyId(current) }),
      ).toString('base64url');
      expect(
        failureOf(() => sut.verify(`${relabelled}.${signature}`, rotated, servedAt, 'click')).reason,
      ).toBe('bad_signature');
    });

    it('accepts a token without a kid (signed before key ids) with any configured secret', () => {
      const claims = claimsFactory();
      expect(sut.verify(kidlessToken(claims, previous), rotated, servedAt, 'click')).toEqual(claims);
      expect(sut.verify(kidlessToken(claims, current), rotated, servedAt, 'click')).toEqual(claims);
      expect(
        failureOf(() =>
          sut.verify(kidlessToken(claims, 'a-forger-guessed-secret'), rotated, servedAt, 'click'),
        ),
      ).toEqual({ reason: 'bad_signature', message: 'tracking token signature does not match' });
    });

    it('calls a kid that is not 8 lowercase hex digits malformed', () => {
      const payload = Buffer.from(JSON.stringify({ ...claimsFactory(), kid: 'ABCDEF12' })).toString(
        'base64url',
      );
      const mac = createHmac('sha256', current).update(payload).digest('base64url');
      expect(failureOf(() => sut.verify(`${payload}.${mac}`, rotated, servedAt, 'click'))).toEqual({
        reason: 'malformed',
        message: 'tracking token kid is not 8 lowercase hex digits',
      });
    });
  });

  it.each([
    ['an empty token', '', /missing/],
    ['one part', 'abc', /two dot-separated parts/],
    ['three parts', 'a.b.c', /two dot-separated parts/],
    ['a non-base64url payload', 'ab$.cd', /payload is not base64url/],
    [
      'a payload that is not a JSON object',
      `${Buffer.from('[1]').toString('base64url')}.AA`,
      /not a JSON object/,
    ],
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
