import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * When a campaign took its status now (`status_changed_at`, epoch ms): its creation, or the last
 * pause, resume or archive the advertiser made, so the delivery diagnosis can say since when a
 * campaign is paused. Null: set before this column existed; an archived campaign's is its
 * `archived_at`, the one change of those whose time was kept. Schema-builder API and a portable
 * UPDATE, for SQLite and PostgreSQL.
 */
export class CampaignStatusChanged1765500000000 implements MigrationInterface {
  readonly name = 'CampaignStatusChanged1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'campaigns',
      new TableColumn({ name: 'status_changed_at', type: 'bigint', isNullable: true }),
    );
    // A raw query is not put in the data source's schema as the schema builder's are.
    const { options } = queryRunner.connection;
    const schema = options.type === 'postgres' ? options.schema : undefined;
    const campaigns = schema === undefined ? '"campaigns"' : `"${schema}"."campaigns"`;
    await queryRunner.query(
      `UPDATE ${campaigns} SET status_changed_at = archived_at WHERE archived_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('campaigns', 'status_changed_at');
  }
}
