import { createHash } from 'node:crypto';
import type { EventType, TrackingClaims } from '@adfunnel/contracts';

export const EVENT_ID_LENGTH = 32;

/**
 * The id of a tracking event: the same callback (type, request, slot, ad) always yields the same id, so a
 * repeated or redelivered callback is stored once. A JSON array keeps the fields unambiguous.
 */
export function eventId(type: EventType, claims: Pick<TrackingClaims, 'r' | 's' | 'a'>): string {
  return createHash('sha256')
    .update(JSON.stringify([type, claims.r, claims.s, claims.a]), 'utf8')
    .digest('hex')
    .slice(0, EVENT_ID_LENGTH);
}

/**
 * The id of an advertiser's conversion: keyed by the advertiser's own conversion id, so the same
 * conversion posted twice (or for two clicks) is one event. Three fields, so it never equals a callback's id.
 */
export function conversionEventId(advertiserId: number, conversionId: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['conversion', advertiserId, conversionId]), 'utf8')
    .digest('hex')
    .slice(0, EVENT_ID_LENGTH);
}
