import type { BidType, EventType } from '@adfunnel/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../transformers/epoch-ms.transformer.js';

/** One tracking callback. The id is deterministic, so a repeated callback is stored once. */
@Entity('tracking_events')
@Index('IDX_tracking_events_request_id', ['requestId'])
@Index('IDX_tracking_events_campaign_occurred', ['campaignId', 'occurredAt'])
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

  /** What this event charges, USD: price/1000 for a CPM impression, price for a CPC click or CPA conversion, else 0. */
  @Column({ type: 'double precision' })
  cost!: number;

  @Column({ name: 'served_at', type: 'bigint', transformer: epochMs })
  servedAt!: number;

  @Column({ name: 'occurred_at', type: 'bigint', transformer: epochMs })
  occurredAt!: number;

  @Column({ name: 'received_at', type: 'bigint', transformer: epochMs })
  receivedAt!: number;
}
