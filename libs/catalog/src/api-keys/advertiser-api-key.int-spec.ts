import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource, runCatalogMigrations } from '../catalog-data-source.js';
import { CatalogReader } from '../catalog-reader.service.js';
import type { DatabaseConfig } from '../database-config.js';
import { databaseOptions } from '../database-options.js';
import { AdEntity } from '../entities/ad.entity.js';
import { AdvertiserApiKeyEntity } from '../entities/advertiser-api-key.entity.js';
import { AdvertiserEntity } from '../entities/advertiser.entity.js';
import { CampaignEntity } from '../entities/campaign.entity.js';
import { CATALOG_MIGRATIONS } from '../migrations/catalog-migrations.js';
import { AdvertiserApiKeyService, ApiKeyError } from './advertiser-api-key.service.js';
import { apiKeyHash } from './api-key.js';

const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
const CREATED = Date.UTC(2025, 0, 1);

Logger.overrideLogger(['error', 'warn']);

const tmp = mkdtempSync(path.join(tmpdir(), 'catalog-api-keys-int-'));
const runId = `apikeys_${process.pid}_${Date.now().toString(36)}`;
const pgSchemas: string[] = [];

function sqliteConfig(name: string): DatabaseConfig {
  return { sqlitePath: path.join(tmp, `${name}.sqlite`) };
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
])('advertiser accounts on %s', (_name, configFor) => {
  let ds: DataSource;
  let sut: AdvertiserApiKeyService;

  beforeAll(async () => {
    const config = configFor('main');
    // Up to the first migration only: rows written before the money settings existed.
    const first = new DataSource({ ...databaseOptions(config), migrations: CATALOG_MIGRATIONS.slice(0, 1) });
    await first.initialize();
    try {
      await runCatalogMigrations(first);
      const schema = first.options.type === 'postgres' ? first.options.schema : undefined;
      const table = (name: string) => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`);
      await first.query(
        `INSERT INTO ${table('advertisers')} (id, name, created_at) VALUES (1, 'Old', ${CREATED})`,
      );
      await first.query(
        `INSERT INTO ${table('campaigns')} (id, advertiser_id, name, status, bid_type, bid, daily_budget, ` +
          `target_countries, target_devices, created_at) VALUES (1, 1, 'Old campaign', 'active', 'CPC', 0.5, 100, '[]', '[]', ${CREATED})`,
      );
    } finally {
      await first.destroy();
    }

    ds = await createDataSource(config);
    expect(await runCatalogMigrations(ds)).toEqual([
      'CampaignMoneySettings1764200000000',
      'CampaignReserve1764800000000',
      'UserProfilesDeclared1765000000000',
      'CatalogArchive1765400000000',
      'CampaignStatusChanged1765500000000',
    ]);
    sut = new AdvertiserApiKeyService(ds);
    await ds.getRepository(AdvertiserEntity).save([
      { id: 2, name: 'Tokyo Goods', timezone: 'Asia/Tokyo', createdAt: CREATED },
      { id: 3, name: 'Plain', createdAt: CREATED },
    ]);
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('migrates to a schema that matches the entities exactly', async () => {
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('gives rows written before the migration the defaults: UTC, a 7-day window, even pacing, no own cap', async () => {
    expect(await ds.getRepository(AdvertiserEntity).findOneByOrFail({ id: 1 })).toMatchObject({
      timezone: 'UTC',
    });
    expect(await ds.getRepository(CampaignEntity).findOneByOrFail({ id: 1 })).toMatchObject({
      clickWindowDays: 7,
      pacing: 'even',
      frequencyCap: null,
      frequencyWindowHours: null,
    });
    expect((await ds.getRepository(AdvertiserEntity).findOneByOrFail({ id: 3 })).timezone).toBe('UTC');
  });

  it('serves the campaign settings and the advertiser time zone with every ad', async () => {
    await ds.getRepository(CampaignEntity).save({
      id: 2,
      advertiserId: 2,
      name: 'Tokyo fast',
      status: 'active',
      bidType: 'CPM',
      bid: 3,
      dailyBudget: 50,
      targetCountries: [],
      targetDevices: [],
      clickWindowDays: 30,
      pacing: 'asap',
      frequencyCap: 3,
      frequencyWindowHours: 12,
      createdAt: CREATED,
    });
    await ds.getRepository(AdEntity).save({
      id: 20,
      campaignId: 2,
      advertiserId: 2,
      title: 'Ad',
      text: 'text',
      imageUrl: 'https://img.example.com/20.png',
      landingUrl: 'https://shop.example.com/20',
      category: 'books',
      embedding: new Float32Array(32).fill(0.1),
      status: 'active',
      createdAt: CREATED,
    });
    expect((await new CatalogReader(ds).findAd(20))?.campaign).toMatchObject({
      dailyBudget: 50,
      timezone: 'Asia/Tokyo',
      clickWindowDays: 30,
      pacing: 'asap',
      frequencyCap: 3,
      frequencyWindowHours: 12,
    });
  });

  it('refuses to store a time zone that is not an IANA name', async () => {
    await expect(
      ds
        .getRepository(AdvertiserEntity)
        .save({ id: 9, name: 'Nowhere', timezone: 'Mars/Olympus', createdAt: CREATED }),
    ).rejects.toThrow('time zone "Mars/Olympus" is not an IANA time zone name');
    await expect(
      ds.createQueryBuilder().update(AdvertiserEntity).set({ timezone: '+09:00' }).where('id = 2').execute(),
    ).rejects.toThrow(/not an IANA time zone name/);
    expect(await ds.getRepository(AdvertiserEntity).existsBy({ id: 9 })).toBe(false);
  });

  it('issues keys it verifies, stores only their hash, and revokes them', async () => {
    const [key] = await sut.issue([2], 'production', CREATED);
    expect(key).toMatchObject({ advertiserId: 2, label: 'production', createdAt: CREATED });
    expect(key.keyHash).toBe(apiKeyHash(key.key));

    const stored = await ds.getRepository(AdvertiserApiKeyEntity).findBy({ advertiserId: 2 });
    expect(stored).toEqual([
      { keyHash: key.keyHash, advertiserId: 2, label: 'production', createdAt: CREATED, revokedAt: null },
    ]);
    const raw = JSON.stringify(
      await ds.getRepository(AdvertiserApiKeyEntity).createQueryBuilder('k').getRawMany(),
    );
    expect(raw).not.toContain(key.key.slice('adf_live_'.length));

    expect(await sut.verify(key.key)).toEqual({ valid: true, advertiserId: 2, keyHash: key.keyHash });
    expect(await sut.verify(key.key.slice(0, -1) + (key.key.endsWith('A') ? 'B' : 'A'))).toEqual({
      valid: false,
      reason: 'unknown',
    });
    expect(await sut.verify('Bearer nonsense')).toEqual({ valid: false, reason: 'malformed' });

    expect(await sut.revoke(key.keyHash, CREATED + 1)).toBe('revoked');
    expect(await sut.verify(key.key)).toEqual({ valid: false, reason: 'revoked' });
    expect(await sut.revoke(key.keyHash)).toBe('already_revoked');
    expect(await sut.revoke('0'.repeat(64))).toBe('unknown');
    await expect(sut.revoke(key.key)).rejects.toThrow(ApiKeyError);
  });

  it('issues one key to each advertiser, or none when one of them does not exist', async () => {
    const all = await sut.advertiserIds();
    expect(all).toEqual([1, 2, 3]);
    const keys = await sut.issue(all, 'demo');
    expect(keys.map((k) => k.advertiserId)).toEqual([1, 2, 3]);
    expect(new Set(keys.map((k) => k.key)).size).toBe(3);
    for (const k of keys)
      expect(await sut.verify(k.key)).toMatchObject({ valid: true, advertiserId: k.advertiserId });

    const before = await ds.getRepository(AdvertiserApiKeyEntity).count();
    await expect(sut.issue([1, 404], 'demo')).rejects.toThrow('no advertiser 404 in the catalog');
    await expect(sut.issue([1], '')).rejects.toThrow('label must be 1-100 characters');
    expect(await ds.getRepository(AdvertiserApiKeyEntity).count()).toBe(before);
  });

  it("lists an advertiser's keys without the keys, and revokes a key only through its own advertiser", async () => {
    const [key] = await sut.issue([3], 'listed', CREATED + 5);
    const listed = await sut.keysOf(3);
    expect(listed).toContainEqual({
      advertiserId: 3,
      keyHash: key.keyHash,
      label: 'listed',
      createdAt: CREATED + 5,
      revokedAt: null,
    });
    expect(listed.every((k) => k.advertiserId === 3)).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(key.key);

    expect(await sut.revoke(key.keyHash, CREATED + 6, 2)).toBe('unknown');
    expect(await sut.verify(key.key)).toMatchObject({ valid: true });
    expect(await sut.keyOf(2, key.keyHash)).toBeNull();
    expect(await sut.revoke(key.keyHash, CREATED + 6, 3)).toBe('revoked');
    expect(await sut.revoke(key.keyHash, CREATED + 7, 3)).toBe('already_revoked');
    expect(await sut.keyOf(3, key.keyHash)).toMatchObject({ revokedAt: CREATED + 6 });
    expect(await sut.verify(key.key)).toEqual({ valid: false, reason: 'revoked' });
  });

  it("deletes an advertiser's keys with the advertiser", async () => {
    const [key] = await sut.issue([3], 'to be deleted');
    await ds.getRepository(AdvertiserEntity).delete({ id: 3 });
    expect(await ds.getRepository(AdvertiserApiKeyEntity).countBy({ advertiserId: 3 })).toBe(0);
    expect(await sut.verify(key.key)).toEqual({ valid: false, reason: 'unknown' });
  });
});
