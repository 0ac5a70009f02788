import type { EventType } from '@adfunnel/contracts';
import { epochMs, micros } from '@adfunnel/catalog';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One billable event, once: the key is the event id, so a repeated callback, a retried job or a
 * redelivery can never charge twice. Amounts are integer micro-dollars.
 */
@Entity('ledger_entries')
@Index('IDX_ledger_entries_campaign_day', ['campaignId', 'billingDay'])
@Index('UQ_ledger_entries_click_event_id', ['clickEventId'], { unique: true })
export class LedgerEntryEntity {
  @PrimaryColumn({
    name: 'entry_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_ledger_entries',
  })
  entryId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 16 })
  eventType!: EventType;

  @Column({ name: 'campaign_id', type: 'integer' })
  campaignId!: number;

  @Column({ name: 'advertiser_id', type: 'integer' })
  advertiserId!: number;

  @Column({ name: 'ad_id', type: 'integer' })
  adId!: number;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId!: string;

  /** 'YYYY-MM-DD' in the advertiser's time zone at occurredAt. */
  @Column({ name: 'billing_day', type: 'varchar', length: 10 })
  billingDay!: string;

  /** What the event costs by the billing rules. */
  @Column({ name: 'cost_micros', type: 'bigint', transformer: micros })
  costMicros!: number;

  /** What is billed: the cost, less whatever would take the campaign-day past its budget. */
  @Column({ name: 'charged_micros', type: 'bigint', transformer: micros })
  chargedMicros!: number;

  /** A CPA conversion: the click it is billed for; unique, so a click is billed one conversion at most. */
  @Column({ name: 'click_event_id', type: 'varchar', length: 64, nullable: true })
  clickEventId!: string | null;

  @Column({ name: 'occurred_at', type: 'bigint', transformer: epochMs })
  occurredAt!: number;

  @Column({ name: 'recorded_at', type: 'bigint', transformer: epochMs })
  recordedAt!: number;

  /** The budget slice its ad was served from (BudgetSlice.key, a budget-split experiment); null: the whole budget. */
  @Column({ name: 'budget_slice', type: 'varchar', length: 200, nullable: true })
  budgetSlice!: string | null;
}
