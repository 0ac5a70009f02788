import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonNumbers } from '@adfunnel/catalog';

/**
 * One request's candidates as the live model and a shadow model scored them (ranking's shadow log):
 * index i of every array belongs to adIds[i]. The comparison report joins it to the served ads and
 * their impressions and clicks by request id and ad id.
 */
@Entity('shadow_scores')
@Index('IDX_shadow_scores_version_scored', ['shadowVersion', 'scoredAt'])
export class ShadowScoreEntity {
  /** `${requestId}:${shadowVersion}` */
  @PrimaryColumn({ type: 'varchar', length: 260, primaryKeyConstraintName: 'PK_shadow_scores' })
  id!: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId!: string;

  @Column({ name: 'scored_at', type: 'bigint', transformer: epochMs })
  scoredAt!: number;

  @Column({ type: 'varchar', length: 32 })
  surface!: string;

  @Column({ name: 'live_version', type: 'varchar', length: 128 })
  liveVersion!: string;

  @Column({ name: 'shadow_version', type: 'varchar', length: 128 })
  shadowVersion!: string;

  @Column({ name: 'ad_ids', type: 'text', transformer: jsonNumbers })
  adIds!: number[];

  @Column({ name: 'live_p_ctr', type: 'text', transformer: jsonNumbers })
  livePCtr!: number[];

  @Column({ name: 'live_p_cvr', type: 'text', transformer: jsonNumbers })
  livePCvr!: number[];

  @Column({ name: 'shadow_p_ctr', type: 'text', transformer: jsonNumbers })
  shadowPCtr!: number[];

  @Column({ name: 'shadow_p_cvr', type: 'text', transformer: jsonNumbers })
  shadowPCvr!: number[];
}
