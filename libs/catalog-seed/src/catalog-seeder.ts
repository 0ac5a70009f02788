import {
  AdEntity,
  AdvertiserEntity,
  CampaignEntity,
  CatalogMetaEntity,
  UserProfileEntity,
  migrationsPending,
} from '@adfunnel/catalog';
import {
  DEMO_MARKETPLACE,
  type MarketplaceSpec,
  adAt,
  advertiserAt,
  campaignAt,
  campaignCount,
  userAt,
} from '@adfunnel/simulator';
import { Logger } from '@nestjs/common';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { seededAdvertiserTimeZone, seededCampaignSettings } from './account-settings.js';

/** Fixed creation time of seeded rows, so two seeds of one spec are identical row for row. */
export const SEED_EPOCH_MS = Date.UTC(2025, 0, 1);
export const SEED_SPEC_META_KEY = 'seed_spec';
export const DEFAULT_SEED_BATCH_SIZE = 1000;

/** SQLite allows 32766 bound parameters per statement, PostgreSQL 65535. */
const MAX_PARAMETERS = 30_000;

export interface SeedOptions {
  /** Rows per INSERT transaction. Default 1000. */
  batchSize?: number;
  onProgress?: (table: string, done: number, total: number) => void;
}

export interface SeedTableReport {
  expected: number;
  before: number;
  inserted: number;
}

export interface SeedReport {
  spec: MarketplaceSpec;
  /** True when every row was already there: the seed inserted nothing. */
  alreadySeeded: boolean;
  tables: {
    advertisers: SeedTableReport;
    campaigns: SeedTableReport;
    ads: SeedTableReport;
    userProfiles: SeedTableReport;
  };
  ms: number;
}

export class CatalogSeedError extends Error {
  override readonly name = 'CatalogSeedError';
}

const logger = new Logger('CatalogSeeder');

/**
 * Writes the simulated marketplace `spec` into the catalog. Deterministic and idempotent: rows are
 * keyed by the simulator's ids and inserted with ON CONFLICT DO NOTHING, so a second run (or a run
 * after a crash) adds only what is missing. A catalog seeded from another spec is refused.
 */
export async function seedCatalog(
  ds: DataSource,
  spec: MarketplaceSpec = DEMO_MARKETPLACE,
  options: SeedOptions = {},
): Promise<SeedReport> {
  const started = performance.now();
  validateSpec(spec);
  const batchSize = options.batchSize ?? DEFAULT_SEED_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new CatalogSeedError(`batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  const pending = await migrationsPending(ds);
  if (pending.length > 0) {
    throw new CatalogSeedError(
      `database has ${pending.length} pending migration${pending.length === 1 ? '' : 's'} (${pending.join(', ')}); run \`npm run catalog -- migrate\` first`,
    );
  }
  await claimSpec(ds, spec);

  const advertisers = await fill(AdvertiserEntity, 'advertisers', spec.advertisers, (i) => {
    const a = advertiserAt(spec, i);
    return { id: a.id, name: a.name, timezone: seededAdvertiserTimeZone(spec, i), createdAt: SEED_EPOCH_MS };
  });
  const campaigns = await fill(CampaignEntity, 'campaigns', campaignCount(spec), (i) => {
    const c = campaignAt(spec, i);
    return {
      id: c.id,
      advertiserId: c.advertiserId,
      name: c.name,
      status: c.status,
      bidType: c.bidType,
      bid: c.bid,
      dailyBudget: c.dailyBudget,
      targetCountries: c.targetCountries,
      targetDevices: c.targetDevices,
      ...seededCampaignSettings(spec, i),
      createdAt: SEED_EPOCH_MS,
      // Seeded in its status: a paused one's diagnosis says since when, as for one the API created paused.
      statusChangedAt: SEED_EPOCH_MS,
    };
  });
  const ads = await fill(AdEntity, 'ads', spec.ads, (i) => {
    const a = adAt(spec, i);
    return {
      id: a.id,
      campaignId: a.campaignId,
      advertiserId: a.advertiserId,
      title: a.title,
      text: a.text,
      imageUrl: a.imageUrl,
      landingUrl: a.landingUrl,
      category: a.category,
      embedding: a.embedding,
      status: 'active' as const,
      createdAt: SEED_EPOCH_MS,
    };
  });
  // What a user declares only: the simulated user's interests are the simulator's ground truth.
  const userProfiles = await fill(UserProfileEntity, 'user_profiles', spec.users, (i) => {
    const u = userAt(spec, i);
    return {
      userId: u.id,
      country: u.country,
      device: u.device,
      ageBand: null,
      gender: null,
      updatedAt: SEED_EPOCH_MS,
    };
  });

  const tables = { advertisers, campaigns, ads, userProfiles };
  const alreadySeeded = Object.values(tables).every((t) => t.inserted === 0);
  const ms = performance.now() - started;
  logger.log(
    alreadySeeded
      ? `catalog already seeded from seed=${spec.seed}; nothing inserted (${ms.toFixed(0)} ms)`
      : `seeded seed=${spec.seed}: ${advertisers.inserted} advertisers, ${campaigns.inserted} campaigns, ` +
          `${ads.inserted} ads, ${userProfiles.inserted} user profiles in ${ms.toFixed(0)} ms`,
  );
  return { spec: specOf(spec), alreadySeeded, tables, ms };

  async function fill<T extends ObjectLiteral>(
    target: EntityTarget<T>,
    table: string,
    expected: number,
    rowAt: (i: number) => Partial<T>,
  ): Promise<SeedTableReport> {
    const repo = ds.getRepository(target);
    const before = await repo.count();
    if (before === expected) return { expected, before, inserted: 0 };
    if (before > expected) {
      throw new CatalogSeedError(
        `${table} holds ${before} rows but spec seed=${spec.seed} makes only ${expected}`,
      );
    }
    const columns = repo.metadata.columns.length;
    const perStatement = Math.max(1, Math.min(batchSize, Math.floor(MAX_PARAMETERS / columns)));
    for (let start = 0; start < expected; start += batchSize) {
      const end = Math.min(expected, start + batchSize);
      const rows: Partial<T>[] = [];
      for (let i = start; i < end; i++) rows.push(rowAt(i));
      await ds.transaction(async (em) => {
        for (let s = 0; s < rows.length; s += perStatement) {
          await em
            .createQueryBuilder()
            .insert()
            .into(target)
            .values(rows.slice(s, s + perStatement))
            .orIgnore()
            .updateEntity(false)
            .execute();
        }
      });
      options.onProgress?.(table, end, expected);
    }
    const after = await repo.count();
    if (after !== expected) {
      throw new CatalogSeedError(`${table} holds ${after} rows after seeding, expected ${expected}`);
    }
    return { expected, before, inserted: after - before };
  }
}

/** Records which spec this catalog holds, or checks that it is the one already recorded. */
async function claimSpec(ds: DataSource, spec: MarketplaceSpec): Promise<void> {
  const meta = ds.getRepository(CatalogMetaEntity);
  const wanted = JSON.stringify(specOf(spec));
  let stored = await meta.findOneBy({ key: SEED_SPEC_META_KEY });
  if (stored === null) {
    const existing = await ds.getRepository(AdEntity).count();
    const advertisers = await ds.getRepository(AdvertiserEntity).count();
    if (existing > 0 || advertisers > 0) {
      throw new CatalogSeedError(
        `catalog already holds ${advertisers} advertisers and ${existing} ads that no seed recorded; ` +
          'refusing to mix seeded rows into it (seed an empty database)',
      );
    }
    await meta
      .createQueryBuilder()
      .insert()
      .values({ key: SEED_SPEC_META_KEY, value: wanted, updatedAt: SEED_EPOCH_MS })
      .orIgnore()
      .updateEntity(false)
      .execute();
    stored = await meta.findOneByOrFail({ key: SEED_SPEC_META_KEY });
  }
  if (stored.value !== wanted) {
    throw new CatalogSeedError(
      `catalog was seeded from a different spec ${stored.value}; refusing to seed ${wanted} over it. ` +
        'Use the same --seed/--advertisers/--ads/--users values, or seed an empty database ' +
        '(delete the SQLite file, or point DATABASE_URL at a fresh database or ?schema=)',
    );
  }
}

function specOf(spec: MarketplaceSpec): MarketplaceSpec {
  return {
    seed: spec.seed,
    advertisers: spec.advertisers,
    campaignsPerAdvertiser: spec.campaignsPerAdvertiser,
    ads: spec.ads,
    users: spec.users,
  };
}

function validateSpec(spec: MarketplaceSpec): void {
  const problems: string[] = [];
  const check = (field: keyof MarketplaceSpec, min: number) => {
    const value = spec[field];
    if (!Number.isSafeInteger(value) || value < min)
      problems.push(`${field} must be an integer >= ${min}, got ${String(value)}`);
  };
  check('seed', 0);
  check('advertisers', 1);
  check('campaignsPerAdvertiser', 1);
  check('ads', 1);
  check('users', 0);
  if (problems.length > 0) throw new CatalogSeedError(`invalid marketplace spec: ${problems.join('; ')}`);
}

/** The spec recorded by the last seed, or null for a catalog no seed has written. */
export async function readSeededSpec(ds: DataSource): Promise<MarketplaceSpec | null> {
  const stored = await ds.getRepository(CatalogMetaEntity).findOneBy({ key: SEED_SPEC_META_KEY });
  return stored === null ? null : (JSON.parse(stored.value) as MarketplaceSpec);
}
