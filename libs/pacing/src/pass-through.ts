/**
 * Whether a request's candidate of a campaign passes a pass-through rate: a hash of the request and
 * campaign decides, so every replica, and a replay of the request, gives the same answer.
 */
export function passesPacing(requestId: string, campaignId: number, rate: number): boolean {
  if (rate >= 1) return true;
  if (!(rate > 0)) return false;
  return unitHash(`${requestId}:${campaignId}`) < rate;
}

/** A uniform number in [0, 1) from a string: FNV-1a, then murmur3's finaliser to mix the low bits. */
export function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}
