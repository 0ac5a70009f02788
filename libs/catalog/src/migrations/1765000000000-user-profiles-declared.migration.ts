import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * User profiles keep only what users declare (country, device, and now an age band and a gender,
 * both optional): the `interests` column held the simulator's true interests, copied in by the seed,
 * which serving must never see. Interests are inferred from the activity the funnel logged
 * (libs/user-activity). Schema-builder API, for SQLite and PostgreSQL.
 */
export class UserProfilesDeclared1765000000000 implements MigrationInterface {
  readonly name = 'UserProfilesDeclared1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('user_profiles', 'interests');
    await queryRunner.addColumns('user_profiles', [
      new TableColumn({ name: 'age_band', type: 'varchar', length: '16', isNullable: true }),
      new TableColumn({ name: 'gender', type: 'varchar', length: '16', isNullable: true }),
    ]);
  }

  /** The column comes back empty (`[]`): the dropped values are not restored. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('user_profiles', 'gender');
    await queryRunner.dropColumn('user_profiles', 'age_band');
    await queryRunner.addColumn(
      'user_profiles',
      new TableColumn({ name: 'interests', type: 'text', isNullable: false, default: "'[]'" }),
    );
  }
}
