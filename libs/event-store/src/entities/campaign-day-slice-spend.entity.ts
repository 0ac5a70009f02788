import { epochMs, micros } from '@adfunnel/catalog';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Running totals of one budget slice of one campaign's billing day (a budget-split experiment gives
 * each arm its share of every budget): what the ledger charged the ads served from the slice. Updated
 * and locked in the transaction of each such ledger entry, after the campaign-day's own row, so the
 * slices of a day always add up to the part of its charge that was served from slices.
 */
@Entity('campaign_day_slice_spend')
export class CampaignDaySliceSpendEntity {
  @PrimaryColumn({
    name: 'campaign_id',
    type: 'integer',
    primaryKeyConstraintName: 'PK_campaign_day_slice_spend',
  })
  campaignId!: number;

  @PrimaryColumn({
    name: 'billing_day',
    type: 'varchar',
    length: 10,
    primaryKeyConstraintName: 'PK_campaign_day_slice_spend',
  })
  billingDay!: string;

  /** BudgetSlice.key: `layer:experiment/arm`, `holdout` or `layer:rest`. */
  @PrimaryColumn({
    name: 'budget_slice',
    type: 'varchar',
    length: 200,
    primaryKeyConstraintName: 'PK_campaign_day_slice_spend',
  })
  budgetSlice!: string;

  @Column({ name: 'charged_micros', type: 'bigint', transformer: micros })
  chargedMicros!: number;

  @Column({ type: 'integer' })
  entries!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
