import type { BidType, CampaignStatus, Pacing } from '@adfunnel/contracts';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { epochMs } from '../transformers/epoch-ms.transformer.js';
import { jsonStrings } from '../transformers/json-array.transformer.js';
import { AdvertiserEntity } from './advertiser.entity.js';

@Entity('campaigns')
@Index('IDX_campaigns_status', ['status'])
@Index('IDX_campaigns_advertiser_id', ['advertiserId'])
export class CampaignEntity {
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_campaigns' })
  id!: number;

  @Column({ name: 'advertiser_id', type: 'integer' })
  advertiserId!: number;

  @ManyToOne(() => AdvertiserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'advertiser_id', foreignKeyConstraintName: 'FK_campaigns_advertiser_id' })
  advertiser?: Relation<AdvertiserEntity>;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: CampaignStatus;

  @Column({ name: 'bid_type', type: 'varchar', length: 8 })
  bidType!: BidType;

  /** USD; per 1000 impressions for CPM, per click for CPC, per conversion for CPA. */
  @Column({ type: 'double precision' })
  bid!: number;

  @Column({ name: 'daily_budget', type: 'double precision' })
  dailyBudget!: number;

  /** Empty means every country. */
  @Column({ name: 'target_countries', type: 'text', transformer: jsonStrings })
  targetCountries!: string[];

  /** Empty means every device. */
  @Column({ name: 'target_devices', type: 'text', transformer: jsonStrings })
  targetDevices!: string[];

  /** A conversion is attributed to a click at most this many days after it. */
  @Column({ name: 'click_window_days', type: 'integer', default: 7 })
  clickWindowDays!: number;

  @Column({ type: 'varchar', length: 8, default: 'even' })
  pacing!: Pacing;

  /** Impressions per user within frequencyWindowHours; null: the service's default cap. */
  @Column({ name: 'frequency_cap', type: 'integer', nullable: true })
  frequencyCap!: number | null;

  @Column({ name: 'frequency_window_hours', type: 'integer', nullable: true })
  frequencyWindowHours!: number | null;

  /** The campaign's own reserve, USD of advertiser value per 1000 impressions; null: the surface's. */
  @Column({ name: 'reserve_cpm', type: 'double precision', nullable: true })
  reserveCpm!: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  /** When the advertiser archived it (it then no longer serves); null: not archived. */
  @Column({ name: 'archived_at', type: 'bigint', nullable: true, transformer: epochMs })
  archivedAt!: number | null;

  /**
   * When it took its status now: its creation, or the advertiser's last pause, resume or archive;
   * null: before the catalog kept the time (except an archive, whose time is archivedAt).
   */
  @Column({ name: 'status_changed_at', type: 'bigint', nullable: true, transformer: epochMs })
  statusChangedAt!: number | null;
}
