import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * The model's P(hide | examined) on each served ad, beside pCTR and pCVR; null for rows served before
 * it was kept or by a model without a hide head. Hides themselves are tracking events of type 'hide'.
 */
export class ServedPHide1764700000000 implements MigrationInterface {
  readonly name = 'ServedPHide1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'served_ads',
      new TableColumn({ name: 'p_hide', type: 'double precision', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('served_ads', 'p_hide');
  }
}
