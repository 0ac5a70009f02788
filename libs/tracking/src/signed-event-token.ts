import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TrackingClaims, TrackingTokenKind } from '@adfunnel/contracts';
import { TrackingClaimsSchema, describeClaimIssues } from './tracking-claims.schema.js';
import { TrackingTokenError } from './tracking-token.error.js';

export const MIN_TRACKING_SECRET_LENGTH = 16;
/**
 * The secret the gateway (which signs) and logging (which verifies) share when none is configured:
 * only for local runs and tests; both refuse to start with it in production.
 */
export const DEV_TRACKING_SECRET = 'adfunnel-dev-tracking-secret-do-not-use-in-production';
/** Far above any real token (about 300 chars); bounds the work an attacker can ask for. */
export const MAX_TRACKING_TOKEN_LENGTH = 2048;
const SIGNATURE_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A compact, URL-safe, expiring token: base64url(JSON claims) + '.' + base64url(HMAC-SHA256 of the first
 * part). Anyone can read the claims; only a holder of the secret can make or alter them.
 */
export class SignedEventToken {
  static sign(claims: TrackingClaims, secret: string): string {
    assertSecret(secret);
    const parsed = TrackingClaimsSchema.safeParse(claims);
    if (!parsed.success) {
      throw new TypeError(`cannot sign invalid tracking claims: ${describeClaimIssues(parsed.error)}`);
    }
    const payload = Buffer.from(JSON.stringify(parsed.data), 'utf8').toString('base64url');
    return `${payload}.${mac(payload, secret).toString('base64url')}`;
  }

  /** Returns the claims of a genuine, unexpired token for the `kind` of event; otherwise throws `TrackingTokenError`. */
  static verify(token: string, secret: string, now: number, kind: TrackingTokenKind): TrackingClaims {
    assertSecret(secret);
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
    const expectedMac = mac(payload, secret);
    // Length is public (always 32 for a genuine token); the bytes are compared in constant time.
    if (signatureBytes.length !== SIGNATURE_BYTES || !timingSafeEqual(signatureBytes, expectedMac)) {
      throw new TrackingTokenError('bad_signature', 'tracking token signature does not match');
    }

    let json: unknown;
    try {
      json = JSON.parse(payloadBytes.toString('utf8'));
    } catch {
      throw new TrackingTokenError('malformed', 'tracking token payload is not JSON');
    }
    const parsed = TrackingClaimsSchema.safeParse(json);
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
    return parsed.data;
  }
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

function assertSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length < MIN_TRACKING_SECRET_LENGTH) {
    throw new RangeError(`tracking secret must be a string of at least ${MIN_TRACKING_SECRET_LENGTH} chars`);
  }
}
