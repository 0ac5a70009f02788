import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * The model's own pCTR on each served ad when ranking calibrated it (p_ctr is then the calibrated
 * value the auction used): calibrators are fitted on the raw one. Null when no calibrator applied.
 */
export class ServedPCtrRaw1764800000000 implements MigrationInterface {
  readonly name = 'ServedPCtrRaw1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'served_ads',
      new TableColumn({ name: 'p_ctr_raw', type: 'double precision', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('served_ads', 'p_ctr_raw');
  }
}
