import type { BidType, EventType } from '@adfunnel/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '@adfunnel/catalog';

/** One tracking callback. The id is deterministic, so a repeated callback is stored once. */
@Entity('tracking_events')
@Index('IDX_tracking_events_request_id', ['requestId'])
@Index('IDX_tracking_events_campaign_occurred', ['campaignId', 'occurredAt'])
@Index('IDX_tracking_events_campaign_day', ['campaignId', 'billingDay'])
@Index('IDX_tracking_events_type_served', ['type', 'servedAt', 'requestId', 'slot'])
export class TrackingEventEntity {
  @PrimaryColumn({
    name: 'event_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_tracking_events',
  })
  eventId!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: EventType;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  @Column({ name: 'ad_id', type: 'integer' })
  adId!: number;

  @Column({ name: 'campaign_id', type: 'integer' })
  campaignId!: number;

  @Column({ name: 'advertiser_id', type: 'integer' })
  advertiserId!: number;

  @Column({ type: 'integer' })
  slot!: number;

  @Column({ name: 'bid_type', type: 'varchar', length: 8 })
  bidType!: BidType;

  /** Price per unit of bidType agreed at auction (CPM: per 1000 impressions), USD. */
  @Column({ type: 'double precision' })
  price!: number;

  /**
   * What this event costs by the billing rules, USD (price/1000 for a CPM impression, price for a CPC
   * click or the first CPA conversion of a click, else 0). What is billed is in the ledger, in micros.
   */
  @Column({ type: 'double precision' })
  cost!: number;

  /** 'YYYY-MM-DD' in the advertiser's time zone at occurredAt; null for events stored before it was kept. */
  @Column({ name: 'billing_day', type: 'varchar', length: 10, nullable: true })
  billingDay!: string | null;

  /** A conversion: the click it is attributed to. */
  @Column({ name: 'click_event_id', type: 'varchar', length: 64, nullable: true })
  clickEventId!: string | null;

  /** A conversion: the advertiser's own id for it (its dedup key). */
  @Column({ name: 'conversion_id', type: 'varchar', length: 128, nullable: true })
  conversionId!: string | null;

  @Column({ name: 'served_at', type: 'bigint', transformer: epochMs })
  servedAt!: number;

  @Column({ name: 'occurred_at', type: 'bigint', transformer: epochMs })
  occurredAt!: number;

  @Column({ name: 'received_at', type: 'bigint', transformer: epochMs })
  receivedAt!: number;

  /** The budget slice its ad was served from (BudgetSlice.key, a budget-split experiment); null: the whole budget. */
  @Column({ name: 'budget_slice', type: 'varchar', length: 200, nullable: true })
  budgetSlice!: string | null;
}
