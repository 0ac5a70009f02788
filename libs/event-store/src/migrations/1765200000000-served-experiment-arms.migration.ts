import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * The experiment arms each served ad's request was assigned to (the gateway's EXPERIMENTS_CONFIG),
 * as libs/experiments labels them, so the analysis groups served ads and their events by arm. Null on
 * rows served without experiments or before they were kept. Schema-builder API, for SQLite and
 * PostgreSQL.
 */
export class ServedExperimentArms1765200000000 implements MigrationInterface {
  readonly name = 'ServedExperimentArms1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'served_ads',
      new TableColumn({ name: 'experiment_arms', type: 'text', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('served_ads', 'experiment_arms');
  }
}
