import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../transformers/epoch-ms.transformer.js';

/**
 * What a user declared about themselves. Interests are not here: serving infers them from the activity
 * the funnel logged (libs/user-activity), never from a stored profile.
 */
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

  /** Declared age band, e.g. `25-34`; null when not given. */
  @Column({ name: 'age_band', type: 'varchar', length: 16, nullable: true })
  ageBand!: string | null;

  /** Declared gender; null when not given. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  gender!: string | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
