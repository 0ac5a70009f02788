import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * A campaign's own reserve (`reserve_cpm`, USD of advertiser value per 1000 impressions, the unit of
 * AUCTION_RESERVE_CPM); null: the surface's reserve alone. Schema-builder API, for SQLite and PostgreSQL.
 */
export class CampaignReserve1764800000000 implements MigrationInterface {
  readonly name = 'CampaignReserve1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'campaigns',
      new TableColumn({ name: 'reserve_cpm', type: 'double precision', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('campaigns', 'reserve_cpm');
  }
}
