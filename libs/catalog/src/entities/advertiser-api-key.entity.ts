import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { epochMs } from '../transformers/epoch-ms.transformer.js';
import { AdvertiserEntity } from './advertiser.entity.js';

/** An advertiser's API key, kept only as the SHA-256 of the key: a leaked table authenticates nobody. */
@Entity('advertiser_api_keys')
@Index('IDX_advertiser_api_keys_advertiser_id', ['advertiserId'])
export class AdvertiserApiKeyEntity {
  /** Lower-case hex SHA-256 of the whole key (`adf_live_…`). */
  @PrimaryColumn({
    name: 'key_hash',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_advertiser_api_keys',
  })
  keyHash!: string;

  @Column({ name: 'advertiser_id', type: 'integer' })
  advertiserId!: number;

  @ManyToOne(() => AdvertiserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'advertiser_id', foreignKeyConstraintName: 'FK_advertiser_api_keys_advertiser_id' })
  advertiser?: Relation<AdvertiserEntity>;

  @Column({ type: 'varchar', length: 100 })
  label!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: epochMs })
  revokedAt!: number | null;
}
