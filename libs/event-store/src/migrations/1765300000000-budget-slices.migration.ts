import { type MigrationInterface, type QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * Budget-split experiments: the budget slice each tracking event's ad was served from (so a click's
 * conversion bills the same slice) and each ledger entry charged, and the per-slice running totals of
 * every campaign-day that serving reserves against. Schema-builder API, for SQLite and PostgreSQL.
 */
export class BudgetSlices1765300000000 implements MigrationInterface {
  readonly name = 'BudgetSlices1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const slice = () =>
      new TableColumn({ name: 'budget_slice', type: 'varchar', length: '200', isNullable: true });
    await queryRunner.addColumn('tracking_events', slice());
    await queryRunner.addColumn('ledger_entries', slice());
    await queryRunner.createTable(
      new Table({
        name: 'campaign_day_slice_spend',
        columns: [
          {
            name: 'campaign_id',
            type: 'integer',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_campaign_day_slice_spend',
          },
          {
            name: 'billing_day',
            type: 'varchar',
            length: '10',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_campaign_day_slice_spend',
          },
          {
            name: 'budget_slice',
            type: 'varchar',
            length: '200',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_campaign_day_slice_spend',
          },
          { name: 'charged_micros', type: 'bigint', isNullable: false },
          { name: 'entries', type: 'integer', isNullable: false },
          { name: 'updated_at', type: 'bigint', isNullable: false },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('campaign_day_slice_spend');
    await queryRunner.dropColumn('ledger_entries', 'budget_slice');
    await queryRunner.dropColumn('tracking_events', 'budget_slice');
  }
}
