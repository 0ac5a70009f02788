import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

const int = (name: string, isNullable = false) => ({ name, type: 'integer', isNullable });
const varchar = (name: string, length: number, isNullable = false) => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable,
});
const text = (name: string, isNullable = false) => ({ name, type: 'text', isNullable });
const double = (name: string, isNullable = false) => ({ name, type: 'double precision', isNullable });
const epochMs = (name: string) => ({ name, type: 'bigint', isNullable: false });

/**
 * The whole catalog and event-store schema as first released, written with the schema-builder API so
 * the one migration runs on SQLite and PostgreSQL alike. Frozen: change the schema with a new
 * migration. tracking_events and served_ads now belong to libs/event-store, whose own migrations
 * (table event_store_migrations) change them from here on.
 */
export class CatalogSchema1764000000000 implements MigrationInterface {
  readonly name = 'CatalogSchema1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'advertisers',
        columns: [
          { ...int('id'), isPrimary: true, primaryKeyConstraintName: 'PK_advertisers' },
          varchar('name', 200),
          epochMs('created_at'),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'campaigns',
        columns: [
          { ...int('id'), isPrimary: true, primaryKeyConstraintName: 'PK_campaigns' },
          int('advertiser_id'),
          varchar('name', 200),
          varchar('status', 16),
          varchar('bid_type', 8),
          double('bid'),
          double('daily_budget'),
          text('target_countries'),
          text('target_devices'),
          epochMs('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_campaigns_status', columnNames: ['status'] }),
          new TableIndex({ name: 'IDX_campaigns_advertiser_id', columnNames: ['advertiser_id'] }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_campaigns_advertiser_id',
            columnNames: ['advertiser_id'],
            referencedTableName: 'advertisers',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'ads',
        columns: [
          { ...int('id'), isPrimary: true, primaryKeyConstraintName: 'PK_ads' },
          int('campaign_id'),
          int('advertiser_id'),
          varchar('title', 200),
          text('text'),
          varchar('image_url', 512),
          varchar('landing_url', 512),
          varchar('category', 32),
          text('embedding'),
          varchar('status', 16),
          epochMs('created_at'),
        ],
        indices: [new TableIndex({ name: 'IDX_ads_campaign_id', columnNames: ['campaign_id'] })],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_ads_campaign_id',
            columnNames: ['campaign_id'],
            referencedTableName: 'campaigns',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'user_profiles',
        columns: [
          { ...varchar('user_id', 64), isPrimary: true, primaryKeyConstraintName: 'PK_user_profiles' },
          varchar('country', 8),
          varchar('device', 16),
          text('interests'),
          epochMs('updated_at'),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'tracking_events',
        columns: [
          { ...varchar('event_id', 64), isPrimary: true, primaryKeyConstraintName: 'PK_tracking_events' },
          varchar('type', 16),
          varchar('request_id', 128),
          varchar('user_id', 64),
          int('ad_id'),
          int('campaign_id'),
          int('advertiser_id'),
          int('slot'),
          varchar('bid_type', 8),
          double('price'),
          double('cost'),
          epochMs('served_at'),
          epochMs('occurred_at'),
          epochMs('received_at'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_tracking_events_request_id', columnNames: ['request_id'] }),
          new TableIndex({
            name: 'IDX_tracking_events_campaign_occurred',
            columnNames: ['campaign_id', 'occurred_at'],
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'served_ads',
        columns: [
          { ...varchar('id', 160), isPrimary: true, primaryKeyConstraintName: 'PK_served_ads' },
          varchar('request_id', 128),
          epochMs('served_at'),
          varchar('user_id', 64),
          varchar('surface', 32),
          varchar('country', 8),
          varchar('device', 16),
          int('slot'),
          int('ad_id'),
          int('campaign_id'),
          int('advertiser_id'),
          varchar('bid_type', 8),
          double('bid'),
          double('price'),
          double('p_ctr', true),
          double('p_cvr', true),
          varchar('model_version', 128, true),
          text('degraded'),
          text('features', true),
          int('feature_dim', true),
        ],
        indices: [new TableIndex({ name: 'IDX_served_ads_request_id', columnNames: ['request_id'] })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'catalog_meta',
        columns: [
          { ...varchar('key', 64), isPrimary: true, primaryKeyConstraintName: 'PK_catalog_meta' },
          text('value'),
          epochMs('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'catalog_meta',
      'served_ads',
      'tracking_events',
      'user_profiles',
      'ads',
      'campaigns',
      'advertisers',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
