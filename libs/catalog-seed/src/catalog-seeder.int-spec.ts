import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AdEntity,
  AdvertiserEntity,
  CampaignEntity,
  CatalogMetaEntity,
  CatalogModule,
  CatalogReader,
  CatalogSnapshotService,
  type DatabaseConfig,
  UserProfileEntity,
  catalogCounts,
  createDataSource,
  runCatalogMigrations,
} from '@adfunnel/catalog';
import { type MarketplaceSpec, adAt, userAt } from '@adfunnel/simulator';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { seedCatalog } from './catalog-seeder.js';
import { simulatedCatalogAds } from './simulated-catalog.js';

const SPEC: MarketplaceSpec = { seed: 7, advertisers: 20, campaignsPerAdvertiser: 3, ads: 1000, users: 500 };
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';

Logger.overrideLogger(['error', 'warn']);

const tmp = mkdtempSync(path.join(tmpdir(), 'catalog-seed-int-'));
const runId = `seed_${process.pid}_${Date.now().toString(36)}`;
const pgSchemas: string[] = [];

function sqliteConfig(name: string): DatabaseConfig {
  return { sqlitePath: path.join(tmp, 'nested', `${name}.sqlite`) };
}

function postgresConfig(name: string): DatabaseConfig {
  const schema = `${runId}_${name}`;
  pgSchemas.push(schema);
  return { databaseUrl: `${POSTGRES}?schema=${schema}`, sqlitePath: 'unused.sqlite' };
}

/** A hash of every seeded row, read through the entities so both drivers normalise alike. */
async function rowHashes(ds: DataSource): Promise<Record<string, string>> {
  const tables: [string, EntityTarget<ObjectLiteral>, string][] = [
    ['advertisers', AdvertiserEntity, 'id'],
    ['campaigns', CampaignEntity, 'id'],
    ['ads', AdEntity, 'id'],
    ['user_profiles', UserProfileEntity, 'userId'],
    ['catalog_meta', CatalogMetaEntity, 'key'],
  ];
  const out: Record<string, string> = {};
  for (const [name, entity, key] of tables) {
    const rows = await ds.getRepository(entity).find({ order: { [key]: 'ASC' } });
    const json = JSON.stringify(rows, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
    out[name] = createHash('sha256').update(json).digest('hex');
  }
  return out;
}

async function migratedAndSeeded(config: DatabaseConfig): Promise<DataSource> {
  const ds = await createDataSource(config);
  await runCatalogMigrations(ds);
  await seedCatalog(ds, SPEC, { batchSize: 300 });
  return ds;
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
])('seeded catalog on %s', (_name, configFor) => {
  const config = configFor('main');
  let ds: DataSource;

  beforeAll(async () => {
    ds = await createDataSource(config);
    await runCatalogMigrations(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('refuses to seed before migrations, naming the command to run', async () => {
    const unmigrated = await createDataSource(configFor('unmigrated'));
    try {
      await expect(seedCatalog(unmigrated, SPEC)).rejects.toThrow(
        'database has 6 pending migrations (CatalogSchema1764000000000, CampaignMoneySettings1764200000000, ' +
          'CampaignReserve1764800000000, UserProfilesDeclared1765000000000, CatalogArchive1765400000000, ' +
          'CampaignStatusChanged1765500000000); ' +
          'run `npm run catalog -- migrate` first',
      );
    } finally {
      await unmigrated.destroy();
    }
  });

  it('seeds the spec, and a second seed inserts nothing and changes no row', async () => {
    const first = await seedCatalog(ds, SPEC, { batchSize: 300 });
    expect(first.alreadySeeded).toBe(false);
    expect(await catalogCounts(ds)).toEqual({
      advertisers: 20,
      campaigns: 60,
      ads: 1000,
      userProfiles: 500,
    });
    const campaigns = await ds.getRepository(CampaignEntity).find();
    expect(campaigns.every((c) => c.statusChangedAt === c.createdAt)).toBe(true);
    expect(campaigns.some((c) => c.status === 'paused')).toBe(true);
    const before = await rowHashes(ds);

    const second = await seedCatalog(ds, SPEC, { batchSize: 300 });

    expect(second.alreadySeeded).toBe(true);
    expect(Object.values(second.tables).map((t) => t.inserted)).toEqual([0, 0, 0, 0]);
    expect(await rowHashes(ds)).toEqual(before);
  });

  it('completes a partly seeded catalog without duplicating rows', async () => {
    await ds.getRepository(AdEntity).delete([5, 6, 700]);

    const report = await seedCatalog(ds, SPEC);

    expect(report.tables.ads).toEqual({ expected: 1000, before: 997, inserted: 3 });
    expect((await catalogCounts(ds)).ads).toBe(1000);
  });

  it('refuses to seed a different spec over it', async () => {
    await expect(seedCatalog(ds, { ...SPEC, ads: 900 })).rejects.toThrow(
      /catalog was seeded from a different spec/,
    );
  });

  it('loads every ad with its campaign and a 32-float embedding equal to the simulator', async () => {
    const sut = new CatalogReader(ds);

    const ads = await sut.loadAds();

    expect(ads).toHaveLength(1000);
    expect(ads.map((a) => a.id)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    for (const ad of ads) expect(ad.embedding).toHaveLength(32);
    // Exactly what the in-memory view of the same marketplace holds, field for field.
    const simulated = simulatedCatalogAds(SPEC);
    expect(ads.map((a) => ({ ...a, embedding: Array.from(a.embedding) }))).toEqual(
      simulated.map((a) => ({ ...a, embedding: Array.from(a.embedding) })),
    );
  });

  it('finds one ad and one user profile', async () => {
    const sut = new CatalogReader(ds);

    expect((await sut.findAd(42))?.title).toBe(adAt(SPEC, 41).title);
    expect(await sut.findAd(5000)).toBeNull();
    const user = userAt(SPEC, 9);
    // What the user declares, and nothing of the simulator's ground truth (interests are inferred).
    expect(await sut.findUserProfile('u00010')).toEqual({
      userId: 'u00010',
      country: user.country,
      device: user.device,
      ageBand: null,
      gender: null,
    });
    expect(await sut.findUserProfile('nobody')).toBeNull();
  });

  it('serves a snapshot through CatalogModule and stops cleanly', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CatalogModule.forRoot({ ...config, catalogRefreshMs: 50 })],
    }).compile();
    await moduleRef.init();
    const sut = moduleRef.get(CatalogSnapshotService);
    const first = sut.snapshot();
    expect(first.ads).toHaveLength(1000);
    expect(first.byId.get(1000)?.embedding).toHaveLength(32);

    await ds.getRepository(CampaignEntity).update({ id: 1 }, { status: 'paused' });
    await new Promise((resolve) => setTimeout(resolve, 400));

    const next = sut.snapshot();
    expect(next.version).not.toBe(first.version);
    expect(next.byId.get(1)?.campaign.status).toBe('paused');
    await moduleRef.close();
  });
});

describe('seeding determinism', () => {
  it('gives identical rows on two fresh SQLite files and on PostgreSQL', async () => {
    const a = await migratedAndSeeded(sqliteConfig('det_a'));
    const b = await migratedAndSeeded(sqliteConfig('det_b'));
    const pg = await migratedAndSeeded(postgresConfig('det'));
    try {
      const hashes = await rowHashes(a);
      expect(await rowHashes(b)).toEqual(hashes);
      expect(await rowHashes(pg)).toEqual(hashes);
    } finally {
      await Promise.all([a.destroy(), b.destroy(), pg.destroy()]);
    }
  });
});
