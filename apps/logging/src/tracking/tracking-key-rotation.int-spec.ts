import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServedAdClaims } from '@adfunnel/contracts';
import { TrackingEventEntity } from '@adfunnel/event-store';
import {
  type TestDatabase,
  type TestStage,
  deleteRedisKeys,
  eventually,
  testDatabaseKinds,
  testRunId,
} from '@adfunnel/testing';
import { trackingKeyId, trackingUrls } from '@adfunnel/tracking';
import { DataSource } from 'typeorm';
import { adFactory, seedAcmeCatalog } from '../testing/acme-catalog.js';
import { startLoggingStage } from '../testing/logging-test-stage.js';
import { servedAdClaimsFactory } from '../testing/served-ad-claims.factory.js';

const secret = () => randomBytes(32).toString('base64url');

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
    stage = await startLoggingStage(prefix, { ...target.env, ...env });
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
    await seedAcmeCatalog(target.database, { ads: [adFactory({ id: 42, campaignId: 10 })] });
  });

  afterAll(async () => {
    await stage?.close();
    await deleteRedisKeys(prefix);
    await target?.drop();
  });

  it('keeps accepting clicks signed before the rotation until the old secret is dropped, and never a forged one', async () => {
    const before = await start({ TRACKING_SECRET: oldSecret });
    const servedBefore = servedAdClaimsFactory();
    const clickedBefore = servedAdClaimsFactory();
    expect((await click(before, clickedBefore, oldSecret)).status).toBe(302);

    const rotated = await start({ TRACKING_SECRET: newSecret, TRACKING_PREVIOUS_SECRETS: oldSecret });
    const servedAfter = servedAdClaimsFactory();
    expect((await click(rotated, servedBefore, oldSecret)).status).toBe(302);
    expect((await click(rotated, servedAfter, newSecret)).status).toBe(302);
    await eventually(
      'the clicks signed with either secret',
      async () => [...(await clicksOf(servedBefore.r)), ...(await clicksOf(servedAfter.r))],
      (rows) => rows.length === 2,
    );

    const million = servedAdClaimsFactory({ p: 1_000_000 });
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
    const late = servedAdClaimsFactory();
    expect(await click(retired, late, oldSecret)).toEqual({
      status: 400,
      body: expect.objectContaining({ reason: 'unknown_key' }),
    });
    expect((await click(retired, servedAdClaimsFactory(), newSecret)).status).toBe(302);
    expect(await clicksOf(million.r)).toEqual([]);
    expect(await clicksOf(late.r)).toEqual([]);
  }, 60_000);
});
