import {
  type MigrationInterface,
  type QueryRunner,
  Table,
  TableColumn,
  TableForeignKey,
  TableIndex,
} from 'typeorm';

/**
 * What budgets, pacing, frequency caps and authenticated conversions need from the catalog: the
 * advertiser's time zone (its billing day), the campaign's click window, pacing and frequency cap, and
 * the advertisers' API keys (SHA-256 of the key only). Schema-builder API, for SQLite and PostgreSQL.
 */
export class CampaignMoneySettings1764200000000 implements MigrationInterface {
  readonly name = 'CampaignMoneySettings1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'advertisers',
      new TableColumn({
        name: 'timezone',
        type: 'varchar',
        length: '64',
        isNullable: false,
        default: "'UTC'",
      }),
    );
    await queryRunner.addColumns('campaigns', [
      new TableColumn({ name: 'click_window_days', type: 'integer', isNullable: false, default: 7 }),
      new TableColumn({ name: 'pacing', type: 'varchar', length: '8', isNullable: false, default: "'even'" }),
      new TableColumn({ name: 'frequency_cap', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'frequency_window_hours', type: 'integer', isNullable: true }),
    ]);
    await queryRunner.createTable(
      new Table({
        name: 'advertiser_api_keys',
        columns: [
          {
            name: 'key_hash',
            type: 'varchar',
            length: '64',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_advertiser_api_keys',
          },
          { name: 'advertiser_id', type: 'integer', isNullable: false },
          { name: 'label', type: 'varchar', length: '100', isNullable: false },
          { name: 'created_at', type: 'bigint', isNullable: false },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'IDX_advertiser_api_keys_advertiser_id', columnNames: ['advertiser_id'] }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_advertiser_api_keys_advertiser_id',
            columnNames: ['advertiser_id'],
            referencedTableName: 'advertisers',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('advertiser_api_keys');
    for (const column of ['frequency_window_hours', 'frequency_cap', 'pacing', 'click_window_days']) {
      await queryRunner.dropColumn('campaigns', column);
    }
    await queryRunner.dropColumn('advertisers', 'timezone');
  }
}
