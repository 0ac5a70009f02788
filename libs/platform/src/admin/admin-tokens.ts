import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The operator tokens a service accepts. A presented token is compared with every one through
 * equal-length digests, so neither its length nor its first wrong character shows in the time taken.
 */
export class AdminTokens {
  private readonly digests: Buffer[];

  constructor(tokens: readonly (string | undefined)[]) {
    this.digests = tokens.filter((token): token is string => token !== undefined).map(sha256);
  }

  get configured(): boolean {
    return this.digests.length > 0;
  }

  accepts(token: string): boolean {
    const presented = sha256(token);
    let accepted = false;
    for (const digest of this.digests) accepted = timingSafeEqual(presented, digest) || accepted;
    return accepted;
  }
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent, null when malformed. */
export function bearerTokenOf(authorization: unknown): string | undefined | null {
  if (authorization === undefined || authorization === '') return undefined;
  const match = typeof authorization === 'string' ? /^Bearer +(\S+)$/i.exec(authorization.trim()) : null;
  return match?.[1] ?? null;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
