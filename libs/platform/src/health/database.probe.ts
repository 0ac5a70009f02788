import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type HealthProbe, RegisterHealthProbe } from './health-probe.js';

/** The database is up when `SELECT 1` answers on the app's TypeORM DataSource. */
@Injectable()
@RegisterHealthProbe()
export class DatabaseProbe implements HealthProbe {
  readonly name = 'database';

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async check(): Promise<Record<string, unknown>> {
    if (!this.dataSource.isInitialized) throw new Error('database connection is not initialized');
    await this.dataSource.query('SELECT 1');
    return { type: this.dataSource.options.type };
  }
}
