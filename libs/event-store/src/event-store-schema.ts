import { DataSource, MigrationExecutor } from 'typeorm';
import { CampaignDaySliceSpendEntity } from './entities/campaign-day-slice-spend.entity.js';
import { CampaignDaySpendEntity } from './entities/campaign-day-spend.entity.js';
import { LedgerEntryEntity } from './entities/ledger-entry.entity.js';
import { ServedAdEntity } from './entities/served-ad.entity.js';
import { ShadowScoreEntity } from './entities/shadow-score.entity.js';
import { TrackingEventEntity } from './entities/tracking-event.entity.js';
import { Ledger1764600000000 } from './migrations/1764600000000-ledger.migration.js';
import { ServedPHide1764700000000 } from './migrations/1764700000000-served-p-hide.migration.js';
import { ServedPCtrRaw1764800000000 } from './migrations/1764800000000-served-p-ctr-raw.migration.js';
import { ShadowScores1764900000000 } from './migrations/1764900000000-shadow-scores.migration.js';
import { ServedRequestContext1765000000000 } from './migrations/1765000000000-served-request-context.migration.js';
import { ServedAdsCalibrationIndex1765100000000 } from './migrations/1765100000000-served-ads-calibration-index.migration.js';
import { ServedExperimentArms1765200000000 } from './migrations/1765200000000-served-experiment-arms.migration.js';
import { BudgetSlices1765300000000 } from './migrations/1765300000000-budget-slices.migration.js';

/** Give these to the catalog's DataSource (`entities`) in every process that reads or writes events. */
export const EVENT_STORE_ENTITIES = [
  TrackingEventEntity,
  ServedAdEntity,
  LedgerEntryEntity,
  CampaignDaySpendEntity,
  CampaignDaySliceSpendEntity,
  ShadowScoreEntity,
];

/** In order, recorded in their own table, so the event store's schema evolves apart from the catalog's. */
export const EVENT_STORE_MIGRATIONS = [
  Ledger1764600000000,
  ServedPHide1764700000000,
  ServedPCtrRaw1764800000000,
  ShadowScores1764900000000,
  ServedRequestContext1765000000000,
  ServedAdsCalibrationIndex1765100000000,
  ServedExperimentArms1765200000000,
  BudgetSlices1765300000000,
];
export const EVENT_STORE_MIGRATIONS_TABLE = 'event_store_migrations';

/**
 * Applies the event store's pending migrations to the database of `catalog` (after the catalog's own,
 * whose first migration created the event tables).
 */
export async function migrateEventStore(catalog: DataSource): Promise<string[]> {
  return withMigrationSource(catalog, async (ds) =>
    (await ds.runMigrations({ transaction: 'each' })).map((m) => m.name),
  );
}

export async function eventStoreMigrationsPending(catalog: DataSource): Promise<string[]> {
  return withMigrationSource(catalog, async (ds) =>
    (await new MigrationExecutor(ds).getPendingMigrations()).map((m) => m.name),
  );
}

/** A short-lived sibling of `catalog` (same database) that knows only the event store's migrations. */
async function withMigrationSource<T>(catalog: DataSource, run: (ds: DataSource) => Promise<T>): Promise<T> {
  if (catalog.options.type !== 'postgres' && catalog.options.database === ':memory:') {
    throw new Error('the event store cannot be migrated in an in-memory SQLite database; use a file');
  }
  const ds = new DataSource({
    ...catalog.options,
    entities: [],
    migrations: EVENT_STORE_MIGRATIONS,
    migrationsTableName: EVENT_STORE_MIGRATIONS_TABLE,
  });
  await ds.initialize();
  try {
    return await run(ds);
  } finally {
    await ds.destroy();
  }
}
