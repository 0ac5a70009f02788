import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdEntity, AdvertiserEntity, CampaignEntity } from '@adfunnel/catalog';
import { QueueGroups, type ServedAdClaims } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from '@adfunnel/features';
import {
  LedgerEntryEntity,
  TrackingEventEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import { parseConfig, scaledClockSpec } from '@adfunnel/platform';
import {
  TEST_REDIS_URL,
  type TestStage,
  deleteRedisKeys,
  eventually,
  startTestStage,
  testRunId,
} from '@adfunnel/testing';
import { trackingUrls } from '@adfunnel/tracking';
import { DataSource } from 'typeorm';
import { LoggingConfigSchema } from './config.js';
import { LoggingModule } from './logging.module.js';

const SECRET = 'logging-clock-int-spec-secret-0123';
const HOUR_MS = 3_600_000;
// A simulated day years after the wall clock: a token valid on the wall has long expired on it.
const SIMULATED_START = Date.UTC(2040, 0, 1, 6);

function claimsFactory(servedAt: number): ServedAdClaims {
  return {
    v: 1,
    r: `req-${randomUUID()}`,
    u: 'u00001',
    a: 42,
    c: 10,
    adv: 1,
    s: 0,
    bt: 'CPM',
    p: 2,
    t: servedAt,
    exp: servedAt + HOUR_MS,
  };
}

describe(`${LoggingModule.name} under a scaled clock`, () => {
  const prefix = testRunId('logging_clock_test');
  let dir: string;
  let stage: TestStage;
  let db: DataSource;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'adfunnel-logging-clock-'));
    const sqlitePath = path.join(dir, 'catalog.sqlite');
    const setup = await openFunnelDatabase({ sqlitePath });
    try {
      await migrateFunnelDatabase(setup);
      await setup
        .getRepository(AdvertiserEntity)
        .save({ id: 1, name: 'Acme', createdAt: Date.UTC(2019, 0, 1) });
      await setup.getRepository(CampaignEntity).save({
        id: 10,
        advertiserId: 1,
        name: 'Acme views',
        status: 'active',
        bidType: 'CPM',
        bid: 3,
        dailyBudget: 100,
        targetCountries: [],
        targetDevices: [],
        createdAt: Date.UTC(2019, 0, 1),
      });
      await setup.getRepository(AdEntity).save(
        Object.assign(new AdEntity(), {
          id: 42,
          campaignId: 10,
          advertiserId: 1,
          title: 'Ad 42',
          text: 'A fine product',
          imageUrl: 'https://img.example.com/42.png',
          landingUrl: 'https://shop.example.com/p/42',
          category: 'electronics',
          embedding: new Float32Array(EMBEDDING_DIM).fill(0.1),
          status: 'active' as const,
          createdAt: Date.UTC(2019, 0, 1),
        }),
      );
    } finally {
      await setup.destroy();
    }
    stage = await startTestStage({
      name: 'logging',
      queueGroup: QueueGroups.logging,
      module: (env) =>
        LoggingModule.forRoot(
          parseConfig(LoggingConfigSchema, {
            ...env,
            SQLITE_PATH: sqlitePath,
            REDIS_URL: TEST_REDIS_URL,
            TRACKING_SECRET: SECRET,
            LOGGING_QUEUE_PREFIX: prefix,
            BUDGET_KEY_PREFIX: prefix,
            CLOCK: scaledClockSpec(SIMULATED_START, Date.now(), 1),
          }),
        ),
    });
    db = stage.app.get(DataSource);
  });

  afterAll(async () => {
    await stage?.close();
    await deleteRedisKeys(prefix);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('takes a token that is valid on the simulated day and bills the event on that day', async () => {
    const claims = claimsFactory(SIMULATED_START);
    const { impressionUrl } = trackingUrls({ baseUrl: stage.url, claims, secret: SECRET });

    expect((await fetch(impressionUrl)).status).toBe(204);

    const [event] = await eventually(
      'the impression',
      () => db.getRepository(TrackingEventEntity).findBy({ requestId: claims.r }),
      (rows) => rows.length === 1,
    );
    expect(Number(event.occurredAt)).toBeGreaterThanOrEqual(SIMULATED_START);
    expect(Number(event.occurredAt)).toBeLessThan(SIMULATED_START + HOUR_MS);
    const [entry] = await db.getRepository(LedgerEntryEntity).findBy({ requestId: claims.r });
    expect(entry).toMatchObject({ billingDay: '2040-01-01', chargedMicros: 2_000 });
  });

  it('refuses a token that expired on the simulated clock though the wall clock says it is valid', async () => {
    const claims = claimsFactory(Date.now());
    const { impressionUrl } = trackingUrls({ baseUrl: stage.url, claims, secret: SECRET });

    const res = await fetch(impressionUrl);

    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toMatchObject({ reason: 'expired' });
  });
});
