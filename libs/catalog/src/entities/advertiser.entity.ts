import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../transformers/epoch-ms.transformer.js';

@Entity('advertisers')
export class AdvertiserEntity {
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_advertisers' })
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;
}
