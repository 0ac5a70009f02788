import type { EventType } from './domain.js';
import type { ServedRecord } from './bus.js';

/** Bull queues (Redis) owned by the logging service, with the payload of each job. */
export const Queues = {
  events: 'adfunnel-events',
  served: 'adfunnel-served',
} as const;

export const JobNames = {
  persistEvent: 'persist-event',
  persistServed: 'persist-served',
} as const;

/** A verified tracking callback, ready to persist. `eventId` is deterministic, so a repeat is a no-op. */
export interface TrackingEventJob {
  eventId: string;
  type: EventType;
  requestId: string;
  userId: string;
  adId: number;
  campaignId: number;
  advertiserId: number;
  slot: number;
  bidType: 'CPM' | 'CPC' | 'CPA';
  /** Price per unit of bidType agreed at auction time. */
  price: number;
  servedAt: number;
  occurredAt: number;
  /** A conversion: the click it is attributed to (that click's event id). */
  clickEventId?: string;
  /** A conversion: the advertiser's own id for it, its dedup key. */
  conversionId?: string;
}

/** One job per batch the gateway sent: the rows' primary keys make a redelivered batch a no-op. */
export interface ServedRecordJob {
  records: ServedRecord[];
}
