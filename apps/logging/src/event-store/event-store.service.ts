import { ServedAdEntity, TrackingEventEntity } from '@adfunnel/catalog';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityTarget, type ObjectLiteral } from 'typeorm';

/**
 * Writes that are safe to repeat: INSERT OR IGNORE (SQLite) / ON CONFLICT DO NOTHING (PostgreSQL) on
 * the primary key, so a redelivered job stores nothing twice. Each call says how many rows were new.
 */
/** 20 columns a row: 10,000 bound parameters per statement. */
const SERVED_ROWS_PER_INSERT = 500;

@Injectable()
export class EventStoreService {
  constructor(private readonly dataSource: DataSource) {}

  async insertTrackingEvent(row: TrackingEventEntity): Promise<boolean> {
    return (await this.insertIgnoringDuplicates(TrackingEventEntity, [row])) === 1;
  }

  /** In chunks, to stay under the bound-parameter limits of SQLite and PostgreSQL. */
  async insertServedAds(rows: ServedAdEntity[]): Promise<number> {
    let stored = 0;
    for (let at = 0; at < rows.length; at += SERVED_ROWS_PER_INSERT) {
      stored += await this.insertIgnoringDuplicates(
        ServedAdEntity,
        rows.slice(at, at + SERVED_ROWS_PER_INSERT),
      );
    }
    return stored;
  }

  private async insertIgnoringDuplicates<T extends ObjectLiteral>(
    target: EntityTarget<T>,
    rows: T[],
  ): Promise<number> {
    const [sql, parameters] = this.dataSource
      .createQueryBuilder()
      .insert()
      .into(target)
      .values(rows)
      .orIgnore()
      .getQueryAndParameters();
    // The structured result is the only portable way to learn how many rows the driver really inserted.
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(sql, parameters, true);
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  }
}
