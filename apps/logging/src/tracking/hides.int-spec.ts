import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TrackingEventEntity, campaignDayReport } from '@adfunnel/event-store';
import { type TestStage, deleteRedisKeys, eventually, testDatabaseKinds, testRunId } from '@adfunnel/testing';
import { eventId, trackingUrls } from '@adfunnel/tracking';
import { DataSource } from 'typeorm';
import { LoggingModule } from '../logging.module.js';
import { LoggingQueuesService } from '../queues/logging-queues.service.js';
import { adFactory, seedAcmeCatalog } from '../testing/acme-catalog.js';
import { startLoggingStage } from '../testing/logging-test-stage.js';
import { servedAdClaimsFactory } from '../testing/served-ad-claims.factory.js';

const SECRET = 'hides-int-spec-secret-0123456789';

describe.each(testDatabaseKinds('hides').map((b) => [b.name, b] as const))(
  `GET /v1/events/hide (${LoggingModule.name} on %s)`,
  (_name, backend) => {
    const prefix = testRunId('hides_test');
    let drop: (() => Promise<void>) | undefined;
    let stage: TestStage;
    let db: DataSource;
    let queues: LoggingQueuesService;

    const eventsOf = (requestId: string) => db.getRepository(TrackingEventEntity).findBy({ requestId });
    const idle = () =>
      eventually(
        'the events queue to drain',
        () => queues.depth(),
        (d) => d.events.waiting + d.events.active + d.events.delayed === 0,
      );
    const urlsOf = (claims = servedAdClaimsFactory()) =>
      trackingUrls({ baseUrl: stage.url, claims, secret: SECRET });

    beforeAll(async () => {
      const target = await backend.create();
      drop = target.drop;
      await seedAcmeCatalog(target.database, { ads: [adFactory({ id: 42, campaignId: 10 })] });
      stage = await startLoggingStage(prefix, { ...target.env, TRACKING_SECRET: SECRET });
      db = stage.app.get(DataSource);
      queues = stage.app.get(LoggingQueuesService);
    }, 60_000);

    afterAll(async () => {
      await stage?.close();
      await deleteRedisKeys(prefix);
      await drop?.();
    }, 60_000);

    it('stores a hide once, without a click, unbilled, however often it is replayed', async () => {
      const claims = servedAdClaimsFactory({ bt: 'CPM', p: 4 });
      const { hideUrl } = urlsOf(claims);

      const [first, second] = await Promise.all([fetch(hideUrl), fetch(hideUrl)]);
      expect([first.status, second.status]).toEqual([204, 204]);
      expect(first.headers.get('cache-control')).toBe('no-store');
      await eventually(
        'the hide row',
        () => eventsOf(claims.r),
        (rows) => rows.length === 1,
      );
      // A late replay, after the first copy left the queue, reaches the worker: the insert ignores it.
      expect((await fetch(hideUrl)).status).toBe(204);
      await idle();

      const rows = await eventsOf(claims.r);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        eventId: eventId('hide', claims),
        type: 'hide',
        adId: 42,
        campaignId: 10,
        slot: claims.s,
        userId: claims.u,
        cost: 0,
      });
      const today = new Date().toISOString().slice(0, 10);
      const report = await campaignDayReport(db, { from: today, to: today, campaignId: 10 });
      expect(report[0]?.hides).toBeGreaterThanOrEqual(1);
      expect(report[0]?.clicks).toBe(0);
    });

    it('refuses an impression or click token on the hide endpoint, and a hide token elsewhere', async () => {
      const claims = servedAdClaimsFactory();
      const urls = urlsOf(claims);
      const tokenOf = (url: string) => new URL(url).searchParams.get('t')!;

      const impression = await fetch(`${stage.url}/v1/events/hide?t=${tokenOf(urls.impressionUrl)}`);
      expect(impression.status).toBe(400);
      expect(await impression.json()).toMatchObject({
        code: 'invalid_request',
        reason: 'wrong_type',
        message:
          'invalid tracking token (wrong_type): tracking token is an impression token, not a hide token',
      });
      const click = await fetch(`${stage.url}/v1/events/hide?t=${tokenOf(urls.clickUrl)}`);
      expect(await click.json()).toMatchObject({ reason: 'wrong_type' });
      const hideAsImpression = await fetch(`${stage.url}/v1/events/impression?t=${tokenOf(urls.hideUrl)}`);
      expect(hideAsImpression.status).toBe(400);
      expect(await hideAsImpression.json()).toMatchObject({
        message: expect.stringContaining('a hide token, not an impression token'),
      });

      await idle();
      expect(await eventsOf(claims.r)).toHaveLength(0);
    });

    it('refuses an expired, tampered or missing hide token with 400 and says why', async () => {
      const old = servedAdClaimsFactory({ t: Date.now() - 7_200_000, exp: Date.now() - 3_600_000 });
      const expired = await fetch(urlsOf(old).hideUrl);
      expect(expired.status).toBe(400);
      expect(await expired.json()).toMatchObject({
        code: 'invalid_request',
        reason: 'expired',
        message: expect.stringContaining('invalid tracking token (expired)'),
      });

      const claims = servedAdClaimsFactory();
      const [payload, signature] = new URL(urlsOf(claims).hideUrl).searchParams.get('t')!.split('.');
      const otherAd = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), a: 43 };
      const altered = Buffer.from(JSON.stringify(otherAd)).toString('base64url');
      const tampered = await fetch(`${stage.url}/v1/events/hide?t=${altered}.${signature}`);
      expect(await tampered.json()).toMatchObject({ reason: 'bad_signature' });

      const missing = await fetch(`${stage.url}/v1/events/hide`);
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ message: 'tracking token t is missing' });

      await idle();
      expect(await eventsOf(old.r)).toHaveLength(0);
      expect(await eventsOf(claims.r)).toHaveLength(0);
    });

    it('checks but does not count a HEAD request', async () => {
      const claims = servedAdClaimsFactory();
      expect((await fetch(urlsOf(claims).hideUrl, { method: 'HEAD' })).status).toBe(204);
      await idle();
      expect(await eventsOf(claims.r)).toHaveLength(0);
    });
  },
);
