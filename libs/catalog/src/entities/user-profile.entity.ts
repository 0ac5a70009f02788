import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../transformers/epoch-ms.transformer.js';
import { jsonNumbers } from '../transformers/json-array.transformer.js';

@Entity('user_profiles')
export class UserProfileEntity {
  @PrimaryColumn({
    name: 'user_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_user_profiles',
  })
  userId!: string;

  @Column({ type: 'varchar', length: 8 })
  country!: string;

  @Column({ type: 'varchar', length: 16 })
  device!: string;

  /** Interest profile over the 16 TOPICS of libs/features. */
  @Column({ type: 'text', transformer: jsonNumbers })
  interests!: number[];

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
