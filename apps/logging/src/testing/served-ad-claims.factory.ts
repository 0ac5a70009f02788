import { randomUUID } from 'node:crypto';
import type { ServedAdClaims } from '@adfunnel/contracts';

/** What a signed tracking token says: a CPC ad 42 of Acme's campaign 10, served now, valid for an hour. */
export function servedAdClaimsFactory(overrides: Partial<ServedAdClaims> = {}): ServedAdClaims {
  const now = Date.now();
  return {
    v: 1,
    r: `req-${randomUUID()}`,
    u: 'u00001',
    a: 42,
    c: 10,
    adv: 1,
    s: 0,
    bt: 'CPC',
    p: 0.5,
    t: now,
    exp: now + 3_600_000,
    ...overrides,
  };
}
