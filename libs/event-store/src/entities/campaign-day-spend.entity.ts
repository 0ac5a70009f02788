import { epochMs, micros } from '@adfunnel/catalog';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Running totals of one campaign's billing day, updated in the transaction that writes each ledger
 * entry (so they always equal the ledger's sums) and locked by it, which serialises the budget check.
 */
@Entity('campaign_day_spend')
export class CampaignDaySpendEntity {
  @PrimaryColumn({ name: 'campaign_id', type: 'integer', primaryKeyConstraintName: 'PK_campaign_day_spend' })
  campaignId!: number;

  @PrimaryColumn({
    name: 'billing_day',
    type: 'varchar',
    length: 10,
    primaryKeyConstraintName: 'PK_campaign_day_spend',
  })
  billingDay!: string;

  @Column({ name: 'advertiser_id', type: 'integer' })
  advertiserId!: number;

  /** The daily budget the day's latest charge was held to (a budget change applies from the next charge). */
  @Column({ name: 'budget_micros', type: 'bigint', transformer: micros })
  budgetMicros!: number;

  @Column({ name: 'charged_micros', type: 'bigint', transformer: micros })
  chargedMicros!: number;

  /** Cost delivered beyond the budget and not billed. */
  @Column({ name: 'overdelivered_micros', type: 'bigint', transformer: micros })
  overdeliveredMicros!: number;

  @Column({ type: 'integer' })
  entries!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
