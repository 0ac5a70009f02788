import { DataSource, MigrationExecutor } from 'typeorm';
import type { CatalogCounts } from './catalog-ad.js';
import type { DatabaseConfig, ExtraEntities } from './database-config.js';
import { databaseOptions } from './database-options.js';
import { AdEntity } from './entities/ad.entity.js';
import { AdvertiserEntity } from './entities/advertiser.entity.js';
import { CampaignEntity } from './entities/campaign.entity.js';
import { UserProfileEntity } from './entities/user-profile.entity.js';

/** An initialised DataSource for the catalog and any `entities` sharing it (outside Nest: CLI, tools, tests). */
export async function createDataSource(
  config: DatabaseConfig,
  entities: ExtraEntities = [],
): Promise<DataSource> {
  const ds = new DataSource(databaseOptions(config, entities));
  try {
    await ds.initialize();
  } catch (error) {
    const where =
      ds.options.type === 'postgres'
        ? 'PostgreSQL (DATABASE_URL)'
        : `SQLite file ${String(ds.options.database)}`;
    throw new Error(`cannot open ${where}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return ds;
}

export async function migrationsPending(ds: DataSource): Promise<string[]> {
  const pending = await new MigrationExecutor(ds).getPendingMigrations();
  return pending.map((m) => m.name);
}

/** Applies pending migrations (each in its own transaction); creates the PostgreSQL schema first if named. */
export async function runCatalogMigrations(ds: DataSource): Promise<string[]> {
  if (ds.options.type === 'postgres' && ds.options.schema !== undefined) {
    const runner = ds.createQueryRunner();
    try {
      await runner.createSchema(ds.options.schema, true);
    } finally {
      await runner.release();
    }
  }
  const applied = await ds.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}

export async function catalogCounts(ds: DataSource): Promise<CatalogCounts> {
  const [advertisers, campaigns, ads, userProfiles] = await Promise.all([
    ds.getRepository(AdvertiserEntity).count(),
    ds.getRepository(CampaignEntity).count(),
    ds.getRepository(AdEntity).count(),
    ds.getRepository(UserProfileEntity).count(),
  ]);
  return { advertisers, campaigns, ads, userProfiles };
}
