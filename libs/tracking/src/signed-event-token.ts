import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TrackingClaims, TrackingTokenKind } from '@adfunnel/contracts';
import { SignedClaimsSchema, TrackingClaimsSchema, describeClaimIssues } from './tracking-claims.schema.js';
import { TRACKING_KEY_ID, type TrackingKey, TrackingKeyring, trackingKeyId } from './tracking-keyring.js';
import { TrackingTokenError } from './tracking-token.error.js';

/** Far above any real token (about 300 chars); bounds the work an attacker can ask for. */
export const MAX_TRACKING_TOKEN_LENGTH = 2048;
const SIGNATURE_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A compact, URL-safe, expiring token: base64url(JSON claims + kid) + '.' + base64url(HMAC-SHA256 of
 * the first part). Anyone can read the claims; only a holder of the secret can make or alter them.
 * `kid` names the key that signed, so a verifier holding the current and previous secrets of a
 * rotation checks one MAC, and a token from a retired or foreign secret is refused by name.
 */
export class SignedEventToken {
  static sign(claims: TrackingClaims, secret: string): string {
    const kid = signingKeyId(secret);
    const parsed = TrackingClaimsSchema.safeParse(claims);
    if (!parsed.success) {
      throw new TypeError(`cannot sign invalid tracking claims: ${describeClaimIssues(parsed.error)}`);
    }
    const payload = Buffer.from(JSON.stringify({ ...parsed.data, kid }), 'utf8').toString('base64url');
    return `${payload}.${mac(payload, secret).toString('base64url')}`;
  }

  /**
   * Returns the claims of a genuine, unexpired token for the `kind` of event; otherwise throws
   * `TrackingTokenError`. `keys` is the verifier's keyring, or a lone secret.
   */
  static verify(
    token: string,
    keys: TrackingKeyring | string,
    now: number,
    kind: TrackingTokenKind,
  ): TrackingClaims {
    const keyring = typeof keys === 'string' ? new TrackingKeyring(keys) : keys;
    if (typeof token !== 'string' || token.length === 0) {
      throw new TrackingTokenError('malformed', 'tracking token is missing');
    }
    if (token.length > MAX_TRACKING_TOKEN_LENGTH) {
      throw new TrackingTokenError(
        'malformed',
        `tracking token is longer than ${MAX_TRACKING_TOKEN_LENGTH} chars`,
      );
    }
    const parts = token.split('.');
    const [payload, signature] = parts;
    if (parts.length !== 2 || payload === undefined || signature === undefined) {
      throw new TrackingTokenError('malformed', 'tracking token must have exactly two dot-separated parts');
    }
    const payloadBytes = decodeCanonical(payload, 'payload');
    const signatureBytes = decodeCanonical(signature, 'signature');
    let json: unknown;
    try {
      json = JSON.parse(payloadBytes.toString('utf8'));
    } catch {
      throw new TrackingTokenError('malformed', 'tracking token payload is not JSON');
    }
    // Length is public (always 32 for a genuine token); the bytes are compared in constant time.
    const signedWith = (key: TrackingKey) =>
      signatureBytes.length === SIGNATURE_BYTES && timingSafeEqual(signatureBytes, mac(payload, key.secret));
    if (!signingKeys(json, keyring).some(signedWith)) {
      throw new TrackingTokenError('bad_signature', 'tracking token signature does not match');
    }

    const parsed = SignedClaimsSchema.safeParse(json);
    if (!parsed.success) {
      throw new TrackingTokenError(
        'malformed',
        `tracking token claims are invalid: ${describeClaimIssues(parsed.error)}`,
      );
    }
    if (parsed.data.k !== kind) {
      throw new TrackingTokenError(
        'wrong_type',
        `tracking token is ${article(parsed.data.k)} ${parsed.data.k} token, not ${article(kind)} ${kind} token`,
      );
    }
    if (parsed.data.exp <= now) {
      throw new TrackingTokenError(
        'expired',
        `tracking token expired at ${new Date(parsed.data.exp).toISOString()}`,
      );
    }
    const { kid: _kid, ...claims } = parsed.data;
    return claims;
  }
}

/** The gateway signs every token with one secret: its id is hashed once, not for each of them. */
let lastSigningKey: TrackingKey | undefined;

function signingKeyId(secret: string): string {
  if (lastSigningKey?.secret !== secret) lastSigningKey = { id: trackingKeyId(secret), secret };
  return lastSigningKey.id;
}

/**
 * The keys the MAC may be made with, chosen by the payload's `kid` before the MAC is checked (as a
 * JWT's header is read). A token without one was signed before key ids existed, with the secret
 * that is current or, after a rotation, previous: each is tried, and such a token expires within
 * TRACKING_TTL_MS of the upgrade like any other.
 */
function signingKeys(json: unknown, keyring: TrackingKeyring): readonly TrackingKey[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TrackingTokenError('malformed', 'tracking token payload is not a JSON object');
  }
  if (!('kid' in json)) return keyring.keys;
  const { kid } = json;
  if (typeof kid !== 'string' || !TRACKING_KEY_ID.test(kid)) {
    throw new TrackingTokenError('malformed', 'tracking token kid is not 8 lowercase hex digits');
  }
  const key = keyring.find(kid);
  if (key === undefined) {
    throw new TrackingTokenError(
      'unknown_key',
      `tracking token was signed with key ${kid}, which is neither the current key (${keyring.current.id}) nor a previous one: a retired or foreign secret`,
    );
  }
  return [key];
}

function article(kind: TrackingTokenKind): string {
  return kind === 'impression' ? 'an' : 'a';
}

function mac(payload: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(payload, 'utf8').digest();
}

/** Node's base64url decoder ignores stray bits and characters; only the canonical spelling is accepted. */
function decodeCanonical(part: string, name: string): Buffer {
  if (!BASE64URL.test(part)) {
    throw new TrackingTokenError('malformed', `tracking token ${name} is not base64url`);
  }
  const bytes = Buffer.from(part, 'base64url');
  if (bytes.toString('base64url') !== part) {
    throw new TrackingTokenError('malformed', `tracking token ${name} is not canonical base64url`);
  }
  return bytes;
}
