import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * What a served ad's request carried beyond the user's declared attributes: its search query, the item
 * the ads were shown next to, and the user's activity state serving read (JSON of UserActivity), so
 * training rebuilds exactly what serving saw. Null on rows served before they were kept, and for
 * requests without them. Schema-builder API, for SQLite and PostgreSQL.
 */
export class ServedRequestContext1765000000000 implements MigrationInterface {
  readonly name = 'ServedRequestContext1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('served_ads', [
      new TableColumn({ name: 'query', type: 'varchar', length: '256', isNullable: true }),
      new TableColumn({ name: 'context_ad_id', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'user_activity', type: 'text', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['user_activity', 'context_ad_id', 'query']) {
      await queryRunner.dropColumn('served_ads', column);
    }
  }
}
