import { AdfunnelError, EVENT_TYPES, type EventType } from '@adfunnel/contracts';
import { type Counter, Metrics, childrenBy, startAtZero } from '@adfunnel/platform';
import { TRACKING_TOKEN_FAILURES } from '@adfunnel/tracking';
import { Injectable } from '@nestjs/common';
import { CONVERSION_REFUSALS } from './conversion-refusal.js';

/** The reasons an event is refused for, by name; any other refusal is counted by its error code. */
const KNOWN_REASONS: ReadonlySet<string> = new Set([
  ...TRACKING_TOKEN_FAILURES,
  ...Object.keys(CONVERSION_REFUSALS),
]);

/**
 * The events the tracking and conversion endpoints accepted (queued), by type, and refused, by type
 * and reason: the token's failure (`expired`, `bad_signature`, ...), the conversion's refusal
 * (`unknown_click`, `outside_window`, ...), else the error code (`unavailable` when the queue did not
 * take it). A HEAD request is checked but not counted as an event; rate-limited requests never
 * reach here (they are on `adfunnel_http_requests_total` as 429).
 */
@Injectable()
export class TrackingMetrics {
  private readonly accepted: Record<EventType, Counter.Internal>;
  private readonly rejected: (type: EventType) => (reason: string) => Counter.Internal;

  constructor(metrics: Metrics) {
    const accepted = metrics.counter({
      name: 'adfunnel_logging_events_accepted_total',
      help: 'Tracking events and conversions accepted and queued, by type',
      labelNames: ['type'],
    });
    const rejected = metrics.counter({
      name: 'adfunnel_logging_events_rejected_total',
      help: 'Tracking events and conversions refused, by type and reason',
      labelNames: ['type', 'reason'],
    });
    this.accepted = Object.fromEntries(
      EVENT_TYPES.map((type) => [type, startAtZero(accepted.labels(type))]),
    ) as Record<EventType, Counter.Internal>;
    this.rejected = childrenBy((type: EventType) =>
      childrenBy((reason: string) => rejected.labels(type, reason)),
    );
  }

  /** Awaits `handling` and counts its event accepted (when `counted`) or refused; rethrows a refusal. */
  async outcome<T>(type: EventType, counted: boolean, handling: Promise<T>): Promise<T> {
    try {
      const result = await handling;
      if (counted) this.accepted[type].inc();
      return result;
    } catch (error) {
      this.rejected(type)(reasonOf(error)).inc();
      throw error;
    }
  }
}

function reasonOf(error: unknown): string {
  if (!(error instanceof AdfunnelError)) return 'internal';
  return error.reason !== undefined && KNOWN_REASONS.has(error.reason) ? error.reason : error.code;
}
