import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdEntity, AdvertiserEntity, CampaignEntity } from '@adfunnel/catalog';
import { QueueGroups, type ServedAdClaims } from '@adfunnel/contracts';
import { TrackingEventEntity, migrateFunnelDatabase, openFunnelDatabase } from '@adfunnel/event-store';
import { EMBEDDING_DIM } from '@adfunnel/features';
import { parseConfig } from '@adfunnel/platform';
import {
  TEST_REDIS_URL,
  type TestDatabase,
  type TestStage,
  deleteRedisKeys,
  eventually,
  startTestStage,
  testDatabaseKinds,
  testRunId,
} from '@adfunnel/testing';
import { trackingKeyId, trackingUrls } from '@adfunnel/tracking';
import { DataSource } from 'typeorm';
import { LoggingConfigSchema } from '../config.js';
import { LoggingModule } from '../logging.module.js';

const LANDING_URL = 'https://shop.example.com/p/42';
const secret = () => randomBytes(32).toString('base64url');

function claimsFactory(overrides: Partial<ServedAdClaims> = {}): ServedAdClaims {
  const now = Date.now();
  return {
    v: 1,
    r: `req-${randomUUID()}`,
    u: 'u00001',
    a: 42,
    c: 10,
    adv: 1,
    s: 0,
    bt: 'CPC',
    p: 0.5,
    t: now,
    exp: now + 3_600_000,
    ...overrides,
  };
}

/**
 * A rotation as an operator runs it: logging restarted with the new TRACKING_SECRET and the old one
 * in TRACKING_PREVIOUS_SECRETS, then, once the old tokens have expired, without it.
 */
describe('tracking secret rotation in logging', () => {
  const prefix = testRunId('logging_rotation_test');
  const oldSecret = secret();
  const newSecret = secret();
  let target: TestDatabase;
  let stage: TestStage | undefined;

  const start = async (env: Record<string, string>) => {
    await stage?.close();
    stage = await startTestStage({
      name: 'logging',
      queueGroup: QueueGroups.logging,
      module: (stageEnv) =>
        LoggingModule.forRoot(
          parseConfig(LoggingConfigSchema, {
            ...stageEnv,
            ...target.env,
            ...env,
            REDIS_URL: TEST_REDIS_URL,
            LOGGING_QUEUE_PREFIX: prefix,
            BUDGET_KEY_PREFIX: prefix,
          }),
        ),
    });
    return stage.url;
  };
  const click = async (baseUrl: string, claims: ServedAdClaims, signedWith: string) => {
    const { clickUrl } = trackingUrls({ baseUrl, claims, secret: signedWith });
    const response = await fetch(clickUrl, { redirect: 'manual' });
    return { status: response.status, body: response.status === 302 ? undefined : await response.json() };
  };
  const clicksOf = (requestId: string) =>
    stage!.app.get(DataSource).getRepository(TrackingEventEntity).findBy({ requestId });

  beforeAll(async () => {
    target = await testDatabaseKinds('logging_rotation')[0].create();
    const setup = await openFunnelDatabase(target.database);
    try {
      await migrateFunnelDatabase(setup);
      await setup
        .getRepository(AdvertiserEntity)
        .save({ id: 1, name: 'Acme', createdAt: Date.UTC(2025, 0, 1) });
      await setup.getRepository(CampaignEntity).save({
        id: 10,
        advertiserId: 1,
        name: 'Acme clicks',
        status: 'active',
        bidType: 'CPC',
        bid: 0.8,
        dailyBudget: 100,
        targetCountries: [],
        targetDevices: [],
        createdAt: Date.UTC(2025, 0, 1),
      });
      await setup.getRepository(AdEntity).save(
        Object.assign(new AdEntity(), {
          id: 42,
          campaignId: 10,
          advertiserId: 1,
          title: 'Ad 42',
          text: 'A fine product',
          imageUrl: 'https://img.example.com/42.png',
          landingUrl: LANDING_URL,
          category: 'electronics',
          embedding: new Float32Array(EMBEDDING_DIM).fill(0.1),
          status: 'active' as const,
          createdAt: Date.UTC(2025, 0, 1),
        }),
      );
    } finally {
      await setup.destroy();
    }
  });

  afterAll(async () => {
    await stage?.close();
    await deleteRedisKeys(prefix);
    await target?.drop();
  });

  it('keeps accepting clicks signed before the rotation until the old secret is dropped, and never a forged one', async () => {
    const before = await start({ TRACKING_SECRET: oldSecret });
    const servedBefore = claimsFactory();
    const clickedBefore = claimsFactory();
    expect((await click(before, clickedBefore, oldSecret)).status).toBe(302);

    const rotated = await start({ TRACKING_SECRET: newSecret, TRACKING_PREVIOUS_SECRETS: oldSecret });
    const servedAfter = claimsFactory();
    expect((await click(rotated, servedBefore, oldSecret)).status).toBe(302);
    expect((await click(rotated, servedAfter, newSecret)).status).toBe(302);
    await eventually(
      'the clicks signed with either secret',
      async () => [...(await clicksOf(servedBefore.r)), ...(await clicksOf(servedAfter.r))],
      (rows) => rows.length === 2,
    );

    const million = claimsFactory({ p: 1_000_000 });
    expect(await click(rotated, million, secret())).toEqual({
      status: 400,
      body: expect.objectContaining({
        code: 'invalid_request',
        reason: 'unknown_key',
        message: expect.stringContaining(`which is neither the current key (${trackingKeyId(newSecret)})`),
      }),
    });
    const payload = Buffer.from(
      JSON.stringify({ ...million, k: 'click', kid: trackingKeyId(newSecret) }),
    ).toString('base64url');
    const forged = `${payload}.${createHmac('sha256', secret()).update(payload).digest('base64url')}`;
    const claimingTheKey = await fetch(`${rotated}/v1/events/click?t=${forged}`, { redirect: 'manual' });
    expect(claimingTheKey.status).toBe(400);
    expect(await claimingTheKey.json()).toMatchObject({ reason: 'bad_signature' });

    const retired = await start({ TRACKING_SECRET: newSecret });
    const late = claimsFactory();
    expect(await click(retired, late, oldSecret)).toEqual({
      status: 400,
      body: expect.objectContaining({ reason: 'unknown_key' }),
    });
    expect((await click(retired, claimsFactory(), newSecret)).status).toBe(302);
    expect(await clicksOf(million.r)).toEqual([]);
    expect(await clicksOf(late.r)).toEqual([]);
  }, 60_000);
});
