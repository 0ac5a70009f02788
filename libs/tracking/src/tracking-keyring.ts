import { createHash } from 'node:crypto';

export const MIN_TRACKING_SECRET_LENGTH = 16;
/** How a key id is spelled in a token: the first 8 hex digits of the SHA-256 of its secret. */
export const TRACKING_KEY_ID = /^[0-9a-f]{8}$/;

export interface TrackingKey {
  readonly id: string;
  readonly secret: string;
}

/**
 * A key's id is derived from its secret, so operators never assign ids and the gateway and logging
 * agree on them: `printf %s "$TRACKING_SECRET" | sha256sum | cut -c1-8`. It names a key, not a
 * secret: 32 bits of a hash say nothing useful about a secret of 16 characters or more.
 */
export function trackingKeyId(secret: string): string {
  assertTrackingSecret(secret);
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}

/**
 * The secrets a verifier accepts: the current one, which the gateway signs with, and the previous
 * ones, kept through a rotation until the tokens they signed have expired.
 */
export class TrackingKeyring {
  readonly current: TrackingKey;
  /** Current first, then the previous ones in the order given. */
  readonly keys: readonly TrackingKey[];
  private readonly byId = new Map<string, TrackingKey>();

  constructor(current: string, previous: readonly string[] = []) {
    for (const secret of [current, ...previous]) {
      const key = { id: trackingKeyId(secret), secret };
      const known = this.byId.get(key.id);
      if (known === undefined) this.byId.set(key.id, key);
      else if (known.secret !== secret) {
        throw new RangeError(`two tracking secrets share the key id ${key.id}: replace one of them`);
      }
    }
    this.keys = [...this.byId.values()];
    this.current = this.keys[0]!;
  }

  find(id: string): TrackingKey | undefined {
    return this.byId.get(id);
  }
}

export function assertTrackingSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length < MIN_TRACKING_SECRET_LENGTH) {
    throw new RangeError(`tracking secret must be a string of at least ${MIN_TRACKING_SECRET_LENGTH} chars`);
  }
}
