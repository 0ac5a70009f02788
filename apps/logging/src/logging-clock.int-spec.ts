import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LedgerEntryEntity, TrackingEventEntity } from '@adfunnel/event-store';
import { scaledClockSpec } from '@adfunnel/platform';
import {
  type TestDatabase,
  type TestStage,
  deleteRedisKeys,
  eventually,
  testDatabaseKinds,
  testRunId,
} from '@adfunnel/testing';
import { trackingUrls } from '@adfunnel/tracking';
import { DataSource } from 'typeorm';
import { LoggingModule } from './logging.module.js';
import { adFactory, seedAcmeCatalog } from './testing/acme-catalog.js';
import { startLoggingStage } from './testing/logging-test-stage.js';
import { servedAdClaimsFactory } from './testing/served-ad-claims.factory.js';

const SECRET = 'logging-clock-int-spec-secret-0123';
const HOUR_MS = 3_600_000;
// A simulated day years after the wall clock: a token valid on the wall has long expired on it.
const SIMULATED_START = Date.UTC(2040, 0, 1, 6);

const claimsFactory = (servedAt: number) =>
  servedAdClaimsFactory({ bt: 'CPM', p: 2, t: servedAt, exp: servedAt + HOUR_MS });

describe(`${LoggingModule.name} under a scaled clock`, () => {
  const prefix = testRunId('logging_clock_test');
  let target: TestDatabase | undefined;
  let stage: TestStage;
  let db: DataSource;

  beforeAll(async () => {
    target = await testDatabaseKinds('logging-clock')[0].create();
    const createdAt = Date.UTC(2019, 0, 1);
    await seedAcmeCatalog(target.database, {
      campaign: { name: 'Acme views', bidType: 'CPM', bid: 3 },
      ads: [adFactory({ id: 42, campaignId: 10, createdAt })],
      createdAt,
    });
    stage = await startLoggingStage(prefix, {
      ...target.env,
      TRACKING_SECRET: SECRET,
      CLOCK: scaledClockSpec(SIMULATED_START, Date.now(), 1),
    });
    db = stage.app.get(DataSource);
  });

  afterAll(async () => {
    await stage?.close();
    await deleteRedisKeys(prefix);
    await target?.drop();
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
