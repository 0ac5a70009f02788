import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * Covering indexes for ranking's calibration refresh and logging's monitor (loggedClickOutcomes):
 * the recent scored impressions are read from one alone, never from the rows, whose feature JSON
 * (and, in SQLite, the columns added after it) made each read walk the whole row; their clicks from
 * the other, by serve time.
 */
export class ServedAdsCalibrationIndex1765100000000 implements MigrationInterface {
  readonly name = 'ServedAdsCalibrationIndex1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      'served_ads',
      new TableIndex({
        name: 'IDX_served_ads_calibration',
        columnNames: [
          'served_at',
          'surface',
          'bid_type',
          'model_version',
          'slot',
          'p_ctr',
          'p_ctr_raw',
          'request_id',
        ],
      }),
    );
    await queryRunner.createIndex(
      'tracking_events',
      new TableIndex({
        name: 'IDX_tracking_events_type_served',
        columnNames: ['type', 'served_at', 'request_id', 'slot'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('tracking_events', 'IDX_tracking_events_type_served');
    await queryRunner.dropIndex('served_ads', 'IDX_served_ads_calibration');
  }
}
