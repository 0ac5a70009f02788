import {
  BID_TYPES,
  type BidType,
  EVENT_TYPES,
  type EventType,
  type TrackingEventJob,
} from '@adfunnel/contracts';
import type { RecordedEvent, UnbilledReason } from '@adfunnel/event-store';
import { type Counter, Metrics, childrenBy, startAtZero } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';

const MICROS_PER_USD = 1e6;

interface BidTypeCounters {
  charged: Counter.Internal;
  overdelivered: Counter.Internal;
}

/**
 * What the events worker wrote to the ledger: events stored or dropped as duplicates, spend charged
 * and overdelivered (past the daily budget, recorded but not charged) in USD by bid type, events
 * stored without a charge by reason, and campaign-days whose charged spend reached their budget
 * (counted by the charge that reached it, once per campaign-day).
 */
@Injectable()
export class BillingMetrics {
  private readonly stored: Record<EventType, { stored: Counter.Internal; duplicate: Counter.Internal }>;
  private readonly spend: Record<BidType, BidTypeCounters>;
  private readonly unbilled: (reason: UnbilledReason) => Counter.Internal;
  private readonly exhausted: Counter.Internal;

  constructor(metrics: Metrics) {
    const events = metrics.counter({
      name: 'adfunnel_logging_events_stored_total',
      help: 'Tracking events the worker recorded, by type and outcome: stored, or duplicate (stored before; nothing charged)',
      labelNames: ['type', 'outcome'],
    });
    const charged = metrics.counter({
      name: 'adfunnel_spend_charged_usd_total',
      help: 'Spend charged to the ledger, in USD, by bid type',
      labelNames: ['bid_type'],
    });
    const overdelivered = metrics.counter({
      name: 'adfunnel_spend_overdelivered_usd_total',
      help: 'Cost of events past their campaign-day budget, recorded and not charged, in USD, by bid type',
      labelNames: ['bid_type'],
    });
    const unbilled = metrics.counter({
      name: 'adfunnel_logging_events_unbilled_total',
      help: 'Events stored without a charge, by reason (not_billable: not the bid type event)',
      labelNames: ['reason'],
    });
    this.exhausted = startAtZero(
      metrics.counter({
        name: 'adfunnel_budget_campaign_days_exhausted_total',
        help: 'Campaign-days whose charged spend reached their daily budget',
      }),
    );
    this.stored = Object.fromEntries(
      EVENT_TYPES.map((type) => [
        type,
        {
          stored: startAtZero(events.labels(type, 'stored')),
          duplicate: startAtZero(events.labels(type, 'duplicate')),
        },
      ]),
    ) as BillingMetrics['stored'];
    this.spend = Object.fromEntries(
      BID_TYPES.map((bidType) => [
        bidType,
        {
          charged: startAtZero(charged.labels(bidType)),
          overdelivered: startAtZero(overdelivered.labels(bidType)),
        },
      ]),
    ) as Record<BidType, BidTypeCounters>;
    this.unbilled = childrenBy((reason: UnbilledReason) => unbilled.labels(reason));
  }

  recorded(job: TrackingEventJob, recorded: RecordedEvent): void {
    const counters = this.stored[job.type];
    if (!recorded.stored) {
      counters.duplicate.inc();
      return;
    }
    counters.stored.inc();
    if (recorded.unbilled !== undefined) this.unbilled(recorded.unbilled).inc();
    const spend = this.spend[job.bidType];
    if (recorded.chargedMicros > 0) spend.charged.inc(recorded.chargedMicros / MICROS_PER_USD);
    if (recorded.overdeliveredMicros > 0) {
      spend.overdelivered.inc(recorded.overdeliveredMicros / MICROS_PER_USD);
    }
    const billing = recorded.billing;
    if (
      billing !== undefined &&
      recorded.chargedMicros > 0 &&
      billing.dayChargedMicros >= billing.budgetMicros &&
      billing.dayChargedMicros - recorded.chargedMicros < billing.budgetMicros
    ) {
      this.exhausted.inc();
    }
  }
}
