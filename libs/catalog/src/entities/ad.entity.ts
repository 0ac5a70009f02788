import { EMBEDDING_DIM } from '@adfunnel/features';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { AdStatus } from '../catalog-ad.js';
import { epochMs } from '../transformers/epoch-ms.transformer.js';
import { Float32JsonTransformer } from '../transformers/float32-json.transformer.js';
import { CampaignEntity } from './campaign.entity.js';

@Entity('ads')
@Index('IDX_ads_campaign_id', ['campaignId'])
export class AdEntity {
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_ads' })
  id!: number;

  @Column({ name: 'campaign_id', type: 'integer' })
  campaignId!: number;

  @ManyToOne(() => CampaignEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'campaign_id', foreignKeyConstraintName: 'FK_ads_campaign_id' })
  campaign?: Relation<CampaignEntity>;

  @Column({ name: 'advertiser_id', type: 'integer' })
  advertiserId!: number;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text' })
  text!: string;

  @Column({ name: 'image_url', type: 'varchar', length: 512 })
  imageUrl!: string;

  @Column({ name: 'landing_url', type: 'varchar', length: 512 })
  landingUrl!: string;

  /** A topic name from libs/features TOPICS. */
  @Column({ type: 'varchar', length: 32 })
  category!: string;

  @Column({ type: 'text', transformer: new Float32JsonTransformer(EMBEDDING_DIM) })
  embedding!: Float32Array;

  @Column({ type: 'varchar', length: 16 })
  status!: AdStatus;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  /** When the advertiser archived it (it then no longer serves); null: not archived. */
  @Column({ name: 'archived_at', type: 'bigint', nullable: true, transformer: epochMs })
  archivedAt!: number | null;
}
