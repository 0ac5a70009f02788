import type { BidType, UserActivity } from '@adfunnel/contracts';
import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';
import { epochMs, jsonNumbers, jsonStrings } from '@adfunnel/catalog';

/** One ad in one answer, with the exact features ranking scored it with: the row training joins labels to. */
@Entity('served_ads')
@Index('IDX_served_ads_request_id', ['requestId'])
@Index('IDX_served_ads_calibration', [
  'servedAt',
  'surface',
  'bidType',
  'modelVersion',
  'slot',
  'pCtr',
  'pCtrRaw',
  'requestId',
])
export class ServedAdEntity {
  /** `${requestId}:${slot}` */
  @PrimaryColumn({ type: 'varchar', length: 160, primaryKeyConstraintName: 'PK_served_ads' })
  id!: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId!: string;

  @Column({ name: 'served_at', type: 'bigint', transformer: epochMs })
  servedAt!: number;

  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  @Column({ type: 'varchar', length: 32 })
  surface!: string;

  @Column({ type: 'varchar', length: 8 })
  country!: string;

  @Column({ type: 'varchar', length: 16 })
  device!: string;

  @Column({ type: 'integer' })
  slot!: number;

  @Column({ name: 'ad_id', type: 'integer' })
  adId!: number;

  @Column({ name: 'campaign_id', type: 'integer' })
  campaignId!: number;

  @Column({ name: 'advertiser_id', type: 'integer' })
  advertiserId!: number;

  @Column({ name: 'bid_type', type: 'varchar', length: 8 })
  bidType!: BidType;

  @Column({ type: 'double precision' })
  bid!: number;

  @Column({ type: 'double precision' })
  price!: number;

  @Column({ name: 'p_ctr', type: 'double precision', nullable: true })
  pCtr!: number | null;

  /** The model's pCTR before calibration; null when no calibrator applied (pCtr is then the model's). */
  @Column({ name: 'p_ctr_raw', type: 'double precision', nullable: true })
  pCtrRaw!: number | null;

  @Column({ name: 'p_cvr', type: 'double precision', nullable: true })
  pCvr!: number | null;

  /** P(hide | examined) as ranking predicted it; null before it was kept, or from a model without a hide head. */
  @Column({ name: 'p_hide', type: 'double precision', nullable: true })
  pHide!: number | null;

  @Column({ name: 'model_version', type: 'varchar', length: 128, nullable: true })
  modelVersion!: string | null;

  @Column({ type: 'text', transformer: jsonStrings })
  degraded!: string[];

  /** JSON array of the float32 feature row; null when ranking was skipped. */
  @Column({ type: 'text', nullable: true, transformer: jsonNumbers })
  features!: number[] | null;

  @Column({ name: 'feature_dim', type: 'integer', nullable: true })
  featureDim!: number | null;

  /**
   * The request's search query, its context item (related_items) and the user's activity state serving
   * read, the same on every slot of a request; null when the request had none or was served before
   * they were kept (optional here so rows built before them still type-check).
   */
  @Column({ type: 'varchar', length: 256, nullable: true })
  query?: string | null;

  @Column({ name: 'context_ad_id', type: 'integer', nullable: true })
  contextAdId?: number | null;

  @Column({ name: 'user_activity', type: 'text', nullable: true, transformer: jsonObject<UserActivity>() })
  userActivity?: UserActivity | null;

  /**
   * The request's experiment arms (`layer:experiment/arm,...`, `holdout`, or `` when no layer assigned
   * it; parseAssignmentLabel reads it), the same on every slot of a request; null when the gateway ran
   * no experiments or the row was served before they were kept.
   */
  @Column({ name: 'experiment_arms', type: 'text', nullable: true })
  experimentArms?: string | null;
}

/** A JSON object in a text column (SQLite and PostgreSQL alike); null stays null. */
function jsonObject<T extends object>(): ValueTransformer {
  return {
    to: (value: T | null | undefined) =>
      value === null || value === undefined ? value : JSON.stringify(value),
    from: (value: string | null) => (value === null || value === undefined ? null : (JSON.parse(value) as T)),
  };
}
