import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { createDataSource, migrationsPending, runCatalogMigrations } from './catalog-data-source.js';
import type { CatalogAd } from './catalog-ad.js';
import { markCatalogChanged } from './catalog-change-mark.js';
import { catalogVersion } from './catalog-version.js';
import { CatalogReader } from './catalog-reader.service.js';
import { CatalogSnapshotService } from './catalog-snapshot.service.js';
import { derivedAdEmbedding } from './derived-ad-embedding.js';
import { AdEntity } from './entities/ad.entity.js';
import { AdvertiserEntity } from './entities/advertiser.entity.js';
import { CampaignEntity } from './entities/campaign.entity.js';
import { databaseOptions } from './database-options.js';
import { CATALOG_MIGRATIONS } from './migrations/catalog-migrations.js';
import { CatalogStartupCheck } from './catalog-startup-check.service.js';
import { CatalogModule } from './catalog.module.js';
import type { DatabaseConfig } from './database-config.js';

// The seeded catalog (seeding, reading it back, snapshots) is tested in libs/catalog-seed.
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
const ALL_MIGRATIONS = [
  'CatalogSchema1764000000000',
  'CampaignMoneySettings1764200000000',
  'CampaignReserve1764800000000',
  'UserProfilesDeclared1765000000000',
  'CatalogArchive1765400000000',
  'CampaignStatusChanged1765500000000',
];

Logger.overrideLogger(['error', 'warn']);

const tmp = mkdtempSync(path.join(tmpdir(), 'catalog-int-'));
const runId = `cat_${process.pid}_${Date.now().toString(36)}`;
const pgSchemas: string[] = [];

function sqliteConfig(name: string): DatabaseConfig {
  return { sqlitePath: path.join(tmp, 'nested', `${name}.sqlite`) };
}

function postgresConfig(name: string): DatabaseConfig {
  const schema = `${runId}_${name}`;
  pgSchemas.push(schema);
  return { databaseUrl: `${POSTGRES}?schema=${schema}`, sqlitePath: 'unused.sqlite' };
}

afterAll(async () => {
  if (pgSchemas.length > 0) {
    const ds = await createDataSource({ databaseUrl: POSTGRES, sqlitePath: 'unused' });
    for (const schema of pgSchemas) await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await ds.destroy();
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe.each([
  ['SQLite', sqliteConfig],
  ['PostgreSQL', postgresConfig],
])('catalog on %s', (_name, configFor) => {
  const config = configFor('main');
  let ds: DataSource;

  beforeAll(async () => {
    ds = await createDataSource(config);
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('refuses to start before migrations, naming the command to run', async () => {
    expect(await migrationsPending(ds)).toEqual(ALL_MIGRATIONS);
    const sut = new CatalogStartupCheck(ds, {});

    await expect(sut.assertReady()).rejects.toThrow(
      `database has 6 pending migrations (${ALL_MIGRATIONS.join(', ')}); ` +
        'run `npm run catalog -- migrate`',
    );
  });

  it('migrates to a schema that matches the entities exactly', async () => {
    expect(await runCatalogMigrations(ds)).toEqual(ALL_MIGRATIONS);
    expect(await runCatalogMigrations(ds)).toEqual([]);
    expect(await migrationsPending(ds)).toEqual([]);

    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('drops the interests a profile held before, keeping what the user declared', async () => {
    const upgrade = configFor('profiles');
    // Up to the migration before: a profile row with the interests the seed used to copy in.
    const before = new DataSource({
      ...databaseOptions(upgrade),
      migrations: CATALOG_MIGRATIONS.slice(0, 3),
    });
    await before.initialize();
    try {
      await runCatalogMigrations(before);
      const schema = before.options.type === 'postgres' ? before.options.schema : undefined;
      const table = schema === undefined ? '"user_profiles"' : `"${schema}"."user_profiles"`;
      await before.query(
        `INSERT INTO ${table} (user_id, country, device, interests, updated_at) VALUES ('u1', 'DE', 'tablet', '[0.5,0.5]', 1)`,
      );
    } finally {
      await before.destroy();
    }
    const after = await createDataSource(upgrade);
    try {
      expect(await runCatalogMigrations(after)).toEqual([
        'UserProfilesDeclared1765000000000',
        'CatalogArchive1765400000000',
        'CampaignStatusChanged1765500000000',
      ]);
      const columns = (await after.createQueryRunner().getTable('user_profiles'))!.columns.map((c) => c.name);
      expect(columns.sort()).toEqual(['age_band', 'country', 'device', 'gender', 'updated_at', 'user_id']);
      expect(await new CatalogReader(after).findUserProfile('u1')).toEqual({
        userId: 'u1',
        country: 'DE',
        device: 'tablet',
        ageBand: null,
        gender: null,
      });
    } finally {
      await after.destroy();
    }
  });

  it("keeps an archived campaign's archive as its status change, and no time for the others", async () => {
    const upgrade = configFor('status_changed');
    // Up to the migration before: a campaign archived at 5000 and one paused at a time not kept.
    const before = new DataSource({
      ...databaseOptions(upgrade),
      migrations: CATALOG_MIGRATIONS.slice(0, 5),
    });
    await before.initialize();
    try {
      await runCatalogMigrations(before);
      const schema = before.options.type === 'postgres' ? before.options.schema : undefined;
      const table = (name: string) => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`);
      await before.query(`INSERT INTO ${table('advertisers')} (id, name, created_at) VALUES (1, 'a', 1)`);
      await before.query(
        `INSERT INTO ${table('campaigns')} (id, advertiser_id, name, status, bid_type, bid, daily_budget,
           target_countries, target_devices, created_at, archived_at)
         VALUES (1, 1, 'archived', 'ended', 'CPM', 1, 10, '[]', '[]', 1000, 5000),
                (2, 1, 'paused', 'paused', 'CPM', 1, 10, '[]', '[]', 1000, NULL)`,
      );
    } finally {
      await before.destroy();
    }
    const after = await createDataSource(upgrade);
    try {
      expect(await runCatalogMigrations(after)).toEqual(['CampaignStatusChanged1765500000000']);
      const campaigns = await after.getRepository(CampaignEntity).find({ order: { id: 'ASC' } });
      expect(campaigns.map((c) => [c.id, c.statusChangedAt])).toEqual([
        [1, 5000],
        [2, null],
      ]);
    } finally {
      await after.destroy();
    }
  });

  it('refuses to start on an empty catalog unless ads are optional', async () => {
    await expect(new CatalogStartupCheck(ds, {}).assertReady()).rejects.toThrow(
      'catalog is empty; run `npm run catalog -- seed`',
    );
    await expect(new CatalogStartupCheck(ds, { requireAds: false }).assertReady()).resolves.toBeUndefined();
  });

  it('reloads a snapshot within the change poll once a writer marks the catalog changed', async () => {
    const sut = new CatalogSnapshotService(
      new CatalogReader(ds),
      new CatalogStartupCheck(ds, { requireAds: false }),
      { catalogRefreshMs: 0, catalogChangePollMs: 50 },
    );
    await sut.onModuleInit();
    try {
      expect(sut.snapshot().ads).toEqual([]);
      await ds.transaction(async (em) => {
        await em.getRepository(AdvertiserEntity).save({ id: 1, name: 'Acme', createdAt: 1 });
        await em.getRepository(CampaignEntity).save({
          id: 1,
          advertiserId: 1,
          name: 'c',
          status: 'active',
          bidType: 'CPC',
          bid: 1,
          dailyBudget: 10,
          targetCountries: [],
          targetDevices: [],
          createdAt: 1,
        });
        await em.getRepository(AdEntity).save({
          id: 1,
          campaignId: 1,
          advertiserId: 1,
          title: 't',
          text: 'x',
          imageUrl: 'https://img.example.com/1.jpg',
          landingUrl: 'https://shop.example.com/1',
          category: 'electronics',
          embedding: (await derivedAdEmbedding(em, 'electronics')).embedding,
          status: 'active',
          createdAt: 1,
        });
        await markCatalogChanged(em);
      });

      const changed = await new Promise<number[]>((resolve) => {
        const off = sut.onChange((next) => {
          off();
          resolve(next.ads.map((ad) => ad.id));
        });
      });
      expect(changed).toEqual([1]);
    } finally {
      sut.onModuleDestroy();
    }
  });

  it('reads the ads in pages equal to one read of them all, and the snapshot of the pages has their version', async () => {
    await ds.transaction(async (em) => {
      const embedding = (await derivedAdEmbedding(em, 'electronics')).embedding;
      await em.getRepository(AdEntity).save(
        Array.from({ length: 11 }, (_, i) => ({
          id: 2 + i,
          campaignId: 1,
          advertiserId: 1,
          title: `ad ${2 + i}`,
          text: 'x',
          imageUrl: 'https://img.example.com/1.jpg',
          landingUrl: 'https://shop.example.com/1',
          category: 'electronics',
          embedding,
          status: i % 3 === 0 ? ('paused' as const) : ('active' as const),
          createdAt: 1,
        })),
      );
      await markCatalogChanged(em);
    });
    const reader = new CatalogReader(ds);
    const pages: CatalogAd[][] = [];
    for await (const page of reader.adPages(5)) pages.push(page);
    const all = await reader.loadAds();

    expect(pages.map((page) => page.length)).toEqual([5, 5, 2]);
    expect(pages.flat()).toEqual(all);
    const sut = new CatalogSnapshotService(reader, new CatalogStartupCheck(ds, { requireAds: false }), {
      catalogRefreshMs: 0,
    });
    await sut.onModuleInit();
    try {
      expect(sut.snapshot().version).toBe(catalogVersion(all));
      expect([...sut.snapshot().byId.keys()]).toEqual(all.map((ad) => ad.id));
    } finally {
      sut.onModuleDestroy();
    }
  });
});

describe('CatalogModule on an unmigrated database', () => {
  it('refuses to start, saying how to fix it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CatalogModule.forRoot({ ...sqliteConfig('unmigrated'), catalogRefreshMs: 0 })],
    }).compile();

    await expect(moduleRef.init()).rejects.toThrow('run `npm run catalog -- migrate`');
    await moduleRef.close();
  });
});
