import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../transformers/epoch-ms.transformer.js';
import { timeZone } from '../transformers/time-zone.transformer.js';

@Entity('advertisers')
export class AdvertiserEntity {
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_advertisers' })
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** IANA name; the advertiser's billing day (budgets, spend, reports) is the calendar day here. */
  @Column({ type: 'varchar', length: 64, default: 'UTC', transformer: timeZone })
  timezone!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;
}
