import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * When an advertiser archived a campaign or an ad (`archived_at`, epoch ms; null: not archived).
 * Archiving also takes it out of serving (a campaign's status becomes `ended`, an ad's `paused`), so
 * the services that serve need not read the column; the advertiser API refuses to change or resume
 * what is archived and lists it only on request. Schema-builder API, for SQLite and PostgreSQL.
 */
export class CatalogArchive1765400000000 implements MigrationInterface {
  readonly name = 'CatalogArchive1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['campaigns', 'ads']) {
      await queryRunner.addColumn(
        table,
        new TableColumn({ name: 'archived_at', type: 'bigint', isNullable: true }),
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['ads', 'campaigns']) await queryRunner.dropColumn(table, 'archived_at');
  }
}
