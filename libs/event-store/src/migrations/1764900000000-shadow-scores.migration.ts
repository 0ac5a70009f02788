import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

const varchar = (name: string, length: number) => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: false,
});
const text = (name: string) => ({ name, type: 'text', isNullable: false });

/** The shadow log: live and shadow scores of each shadowed request. Runs on SQLite and PostgreSQL alike. */
export class ShadowScores1764900000000 implements MigrationInterface {
  readonly name = 'ShadowScores1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'shadow_scores',
        columns: [
          { ...varchar('id', 260), isPrimary: true, primaryKeyConstraintName: 'PK_shadow_scores' },
          varchar('request_id', 128),
          { name: 'scored_at', type: 'bigint', isNullable: false },
          varchar('surface', 32),
          varchar('live_version', 128),
          varchar('shadow_version', 128),
          text('ad_ids'),
          text('live_p_ctr'),
          text('live_p_cvr'),
          text('shadow_p_ctr'),
          text('shadow_p_cvr'),
        ],
        indices: [
          new TableIndex({
            name: 'IDX_shadow_scores_version_scored',
            columnNames: ['shadow_version', 'scored_at'],
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('shadow_scores');
  }
}
