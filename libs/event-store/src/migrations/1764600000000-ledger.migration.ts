import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

const int = (name: string) => ({ name, type: 'integer', isNullable: false });
const varchar = (name: string, length: number) => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: false,
});
const bigint = (name: string) => ({ name, type: 'bigint', isNullable: false });

/**
 * The spend ledger and the per campaign-day totals; on tracking events the advertiser's day of each
 * event (for delivery reports) and the attribution of a conversion (its click and the advertiser's
 * conversion id). Runs on SQLite and PostgreSQL alike.
 */
export class Ledger1764600000000 implements MigrationInterface {
  readonly name = 'Ledger1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('tracking_events', [
      new TableColumn({ name: 'click_event_id', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'conversion_id', type: 'varchar', length: '128', isNullable: true }),
      new TableColumn({ name: 'billing_day', type: 'varchar', length: '10', isNullable: true }),
    ]);
    await queryRunner.createIndex(
      'tracking_events',
      new TableIndex({
        name: 'IDX_tracking_events_campaign_day',
        columnNames: ['campaign_id', 'billing_day'],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'ledger_entries',
        columns: [
          { ...varchar('entry_id', 64), isPrimary: true, primaryKeyConstraintName: 'PK_ledger_entries' },
          varchar('event_type', 16),
          int('campaign_id'),
          int('advertiser_id'),
          int('ad_id'),
          varchar('request_id', 128),
          varchar('billing_day', 10),
          bigint('cost_micros'),
          bigint('charged_micros'),
          { name: 'click_event_id', type: 'varchar', length: '64', isNullable: true },
          bigint('occurred_at'),
          bigint('recorded_at'),
        ],
        indices: [
          new TableIndex({
            name: 'IDX_ledger_entries_campaign_day',
            columnNames: ['campaign_id', 'billing_day'],
          }),
          new TableIndex({
            name: 'UQ_ledger_entries_click_event_id',
            columnNames: ['click_event_id'],
            isUnique: true,
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'campaign_day_spend',
        columns: [
          { ...int('campaign_id'), isPrimary: true, primaryKeyConstraintName: 'PK_campaign_day_spend' },
          {
            ...varchar('billing_day', 10),
            isPrimary: true,
            primaryKeyConstraintName: 'PK_campaign_day_spend',
          },
          int('advertiser_id'),
          bigint('budget_micros'),
          bigint('charged_micros'),
          bigint('overdelivered_micros'),
          int('entries'),
          bigint('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('campaign_day_spend');
    await queryRunner.dropTable('ledger_entries');
    await queryRunner.dropIndex('tracking_events', 'IDX_tracking_events_campaign_day');
    await queryRunner.dropColumns('tracking_events', ['click_event_id', 'conversion_id', 'billing_day']);
  }
}
