import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdEntity, AdvertiserApiKeyService, AdvertiserEntity, CampaignEntity } from '@adfunnel/catalog';
import { CLICK_ID_PARAM, Queues, type TrackingEventJob } from '@adfunnel/contracts';
import {
  LedgerEntryEntity,
  TrackingEventEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import {
  TEST_REDIS_URL,
  type TestStage,
  deleteRedisKeys,
  eventually,
  metricValue,
  testDatabaseKinds,
  testRunId,
} from '@adfunnel/testing';
import { conversionEventId, eventId, trackingUrls } from '@adfunnel/tracking';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { LoggingQueuesService } from '../queues/logging-queues.service.js';
import { adFactory } from '../testing/acme-catalog.js';
import { startLoggingStage } from '../testing/logging-test-stage.js';
import { servedAdClaimsFactory } from '../testing/served-ad-claims.factory.js';
import { conversionRejectionsKey } from './conversion-redis-state.service.js';

const SECRET = 'conversions-int-spec-secret-0123456789';
const ADMIN_TOKEN = 'reports-operator-token-0123456789';
const CREATED = Date.UTC(2025, 0, 1);
const DAY_MS = 86_400_000;
const ACME = 1;
const OTHER = 2;
/** Acme's CPA ad, on a campaign with the default 7-day click window. */
const ACME_AD = {
  id: 42,
  campaignId: 10,
  landingUrl: 'https://shop.example.com/p/42?utm_source=adf#reviews',
};
/** The other advertiser's ad, on a campaign that attributes conversions for one day only. */
const OTHER_AD = { id: 52, campaignId: 20, landingUrl: 'https://other.example.com/p/52' };

const claimsFactory = (ad: typeof ACME_AD, advertiserId: number) =>
  servedAdClaimsFactory({ a: ad.id, c: ad.campaignId, adv: advertiserId, bt: 'CPA', p: 12 });

describe.each(testDatabaseKinds('conversions').map((b) => [b.name, b] as const))(
  'POST /v1/conversions on %s',
  (_name, backend) => {
    const prefix = testRunId('conversions_test');
    let drop: (() => Promise<void>) | undefined;
    let stage: TestStage;
    let baseUrl: string;
    let db: DataSource;
    let queues: LoggingQueuesService;
    let eventsQueue: Queue<TrackingEventJob>;
    let redis: Redis;
    const keys = { acme: '', other: '', revoked: '' };

    /** `authorization` null: no Authorization header at all. */
    const post = (body: unknown, authorization: string | null = `Bearer ${keys.acme}`) =>
      fetch(`${baseUrl}/v1/conversions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization === null ? {} : { authorization }),
        },
        body: JSON.stringify(body),
      });
    /** A served ad clicked: returns the click id the landing URL carries. */
    const click = async (ad = ACME_AD, advertiserId = ACME) => {
      const claims = claimsFactory(ad, advertiserId);
      const res = await fetch(trackingUrls({ baseUrl, claims, secret: SECRET }).clickUrl, {
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      const clickId = new URL(res.headers.get('location')!).searchParams.get(CLICK_ID_PARAM)!;
      return { claims, clickId, location: res.headers.get('location')! };
    };
    const idle = () =>
      eventually(
        'the events queue to drain',
        () => queues.depth(),
        (d) => d.events.waiting + d.events.active + d.events.delayed === 0,
      );
    const conversionsOf = (requestId: string) =>
      db.getRepository(TrackingEventEntity).findBy({ requestId, type: 'conversion' });
    const rejections = async () => redis.hgetall(conversionRejectionsKey(prefix, Date.now()));

    beforeAll(async () => {
      const target = await backend.create();
      drop = target.drop;
      const setup = await openFunnelDatabase(target.database);
      try {
        await migrateFunnelDatabase(setup);
        await setup.getRepository(AdvertiserEntity).save([
          { id: ACME, name: 'Acme', createdAt: CREATED },
          { id: OTHER, name: 'Other', timezone: 'Asia/Tokyo', createdAt: CREATED },
        ]);
        const campaign = { status: 'active' as const, bidType: 'CPA' as const, bid: 15, dailyBudget: 1000 };
        await setup.getRepository(CampaignEntity).save([
          {
            ...campaign,
            id: 10,
            advertiserId: ACME,
            name: 'Acme sales',
            targetCountries: [],
            targetDevices: [],
            createdAt: CREATED,
          },
          {
            ...campaign,
            id: 20,
            advertiserId: OTHER,
            name: 'Other sales',
            clickWindowDays: 1,
            targetCountries: [],
            targetDevices: [],
            createdAt: CREATED,
          },
        ]);
        await setup
          .getRepository(AdEntity)
          .save([
            adFactory({ ...ACME_AD, advertiserId: ACME }),
            adFactory({ ...OTHER_AD, advertiserId: OTHER }),
          ]);
        const apiKeys = new AdvertiserApiKeyService(setup);
        [keys.acme, keys.other] = (await apiKeys.issue([ACME, OTHER], 'test')).map((k) => k.key);
        const [revoked] = await apiKeys.issue([ACME], 'revoked');
        await apiKeys.revoke(revoked.keyHash);
        keys.revoked = revoked.key;
      } finally {
        await setup.destroy();
      }

      stage = await startLoggingStage(prefix, {
        ...target.env,
        TRACKING_SECRET: SECRET,
        REPORTS_ADMIN_TOKEN: ADMIN_TOKEN,
      });
      baseUrl = stage.url;
      db = stage.app.get(DataSource);
      queues = stage.app.get(LoggingQueuesService);
      eventsQueue = stage.app.get(getQueueToken(Queues.events));
      redis = new Redis(TEST_REDIS_URL);
    });

    afterAll(async () => {
      redis?.disconnect();
      await stage?.close();
      await deleteRedisKeys(prefix);
      await drop?.();
    });

    it('refuses a form-encoded or multipart conversion with 415, and a missing body with 400', async () => {
      const authorization = `Bearer ${keys.acme}`;
      const form = new FormData();
      form.set('clickId', 'x');
      const answers = await Promise.all([
        fetch(`${baseUrl}/v1/conversions`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'clickId=x&conversionId=o-1',
        }),
        fetch(`${baseUrl}/v1/conversions`, { method: 'POST', headers: { authorization }, body: form }),
      ]);

      for (const res of answers) {
        expect(res.status).toBe(415);
        await expect(res.json()).resolves.toMatchObject({ code: 'unsupported_media_type' });
      }
      const missing = await fetch(`${baseUrl}/v1/conversions`, {
        method: 'POST',
        headers: { authorization },
      });
      expect(missing.status).toBe(400);
      await expect(missing.json()).resolves.toMatchObject({
        message: 'request body is missing; send a JSON object with content-type application/json',
      });
    });

    it('redirects a click to the landing URL with its click id, keeping the query and the fragment', async () => {
      const { claims, location } = await click();
      expect(location).toBe(
        `https://shop.example.com/p/42?utm_source=adf&${CLICK_ID_PARAM}=${eventId('click', claims)}#reviews`,
      );
    });

    it('accepts a conversion once: a repeat of its conversionId is a duplicate, and one event is stored and billed', async () => {
      const { claims, clickId } = await click();
      const conversionId = `order-${randomUUID()}`;

      const first = await post({ clickId, conversionId });
      expect(first.status).toBe(202);
      const expectedId = conversionEventId(ACME, conversionId);
      expect(await first.json()).toEqual({ accepted: true, eventId: expectedId, duplicate: false });
      const again = await post({ clickId, conversionId, occurredAt: new Date().toISOString() });
      expect(again.status).toBe(202);
      expect(await again.json()).toEqual({ accepted: true, eventId: expectedId, duplicate: true });

      await idle();
      const rows = await conversionsOf(claims.r);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        eventId: expectedId,
        adId: ACME_AD.id,
        campaignId: ACME_AD.campaignId,
        advertiserId: ACME,
        clickEventId: clickId,
        conversionId,
        bidType: 'CPA',
        price: 12,
      });
      expect(await db.getRepository(LedgerEntryEntity).findBy({ entryId: expectedId })).toEqual([
        expect.objectContaining({ eventType: 'conversion', costMicros: 12_000_000, clickEventId: clickId }),
      ]);

      const later = await post({ clickId, conversionId });
      expect(await later.json()).toEqual({ accepted: true, eventId: expectedId, duplicate: true });
      await idle();
      expect(await conversionsOf(claims.r)).toHaveLength(1);
    });

    it('attributes a conversion to a click still waiting in the queue', async () => {
      await eventsQueue.pause(true);
      try {
        const { claims, clickId } = await click();
        expect(await db.getRepository(TrackingEventEntity).existsBy({ eventId: clickId })).toBe(false);
        const res = await post({ clickId, conversionId: `order-${randomUUID()}` });
        expect(res.status).toBe(202);
        expect(await res.json()).toMatchObject({ accepted: true, duplicate: false });
        await eventsQueue.resume(true);
        await idle();
        expect(await conversionsOf(claims.r)).toHaveLength(1);
      } finally {
        await eventsQueue.resume(true);
      }
    });

    it('refuses a conversion without credentials or with a bad header with 401', async () => {
      const { clickId } = await click();
      const none = await post({ clickId, conversionId: 'o-1' }, null);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({
        code: 'unauthenticated',
        reason: 'missing_credentials',
        message: expect.stringContaining('send the header "Authorization: Bearer <API key>"'),
      });
      const basic = await post(
        { clickId, conversionId: 'o-1' },
        `Basic ${Buffer.from('a:b').toString('base64')}`,
      );
      expect(basic.status).toBe(401);
      expect(await basic.json()).toMatchObject({
        reason: 'invalid_credentials',
        message: 'the Authorization header must be "Bearer <API key>"',
      });
    });

    it('refuses a revoked or unknown API key with 401 saying which', async () => {
      const { clickId } = await click();
      const revoked = await post({ clickId, conversionId: 'o-2' }, `Bearer ${keys.revoked}`);
      expect(revoked.status).toBe(401);
      expect(await revoked.json()).toMatchObject({
        reason: 'invalid_credentials',
        message: 'the API key has been revoked',
      });
      const unknown = await post({ clickId, conversionId: 'o-2' }, `Bearer adf_live_${'x'.repeat(43)}`);
      expect(unknown.status).toBe(401);
      expect(await unknown.json()).toMatchObject({ message: 'the API key is not a key we issued' });
      const malformed = await post({ clickId, conversionId: 'o-2' }, 'Bearer secret');
      expect(await malformed.json()).toMatchObject({
        message: expect.stringContaining('is not an adfunnel API key'),
      });
    });

    it("refuses another advertiser's key with 403 and bills nothing", async () => {
      const { claims, clickId } = await click();
      const res = await post({ clickId, conversionId: 'o-3' }, `Bearer ${keys.other}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        code: 'forbidden',
        reason: 'wrong_advertiser',
        message: `click ${clickId} was on an ad of another advertiser; this API key belongs to advertiser ${OTHER}`,
      });
      await idle();
      expect(await conversionsOf(claims.r)).toHaveLength(0);
    });

    it('refuses an unknown click id with 404', async () => {
      const clickId = eventId('click', { r: 'never-served', s: 0, a: ACME_AD.id });
      const res = await post({ clickId, conversionId: 'o-4' });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        code: 'not_found',
        reason: 'unknown_click',
        message: `click ${clickId} is unknown: no click of ours has this adf_click_id`,
      });
    });

    it("refuses a conversion outside the campaign's click window, or before its click, with 422", async () => {
      const clickedAt = Date.now() - 2 * DAY_MS;
      const old: TrackingEventEntity = {
        eventId: eventId('click', { r: `req-${randomUUID()}`, s: 0, a: OTHER_AD.id }),
        type: 'click',
        requestId: `req-old-${randomUUID()}`,
        userId: 'u00002',
        adId: OTHER_AD.id,
        campaignId: OTHER_AD.campaignId,
        advertiserId: OTHER,
        slot: 0,
        bidType: 'CPA',
        price: 10,
        cost: 0,
        billingDay: '2026-01-01',
        clickEventId: null,
        conversionId: null,
        budgetSlice: null,
        servedAt: clickedAt - 1000,
        occurredAt: clickedAt,
        receivedAt: clickedAt,
      };
      await db.getRepository(TrackingEventEntity).insert(old);

      const late = await post({ clickId: old.eventId, conversionId: 'o-5' }, `Bearer ${keys.other}`);
      expect(late.status).toBe(422);
      expect(await late.json()).toMatchObject({
        code: 'unprocessable',
        reason: 'outside_window',
        message: expect.stringMatching(
          /is 2\.0 days after its click at .*; campaign 20 attributes conversions for 1 days/,
        ),
      });
      const early = await post(
        { clickId: old.eventId, conversionId: 'o-5', occurredAt: clickedAt - 60_000 },
        `Bearer ${keys.other}`,
      );
      expect(early.status).toBe(422);
      expect(await early.json()).toMatchObject({
        message: expect.stringContaining('is before its click at'),
      });
      const inside = await post(
        { clickId: old.eventId, conversionId: 'o-5', occurredAt: clickedAt + DAY_MS - 1 },
        `Bearer ${keys.other}`,
      );
      expect(inside.status).toBe(202);
    });

    it('refuses a malformed body with 400 naming each bad field', async () => {
      const { clickId } = await click();
      const res = await post({ clickId: clickId.toUpperCase(), conversionId: '', extra: 1 });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; reason: string; message: string };
      expect(body).toMatchObject({ code: 'invalid_request', reason: 'invalid_body' });
      expect(body.message).toContain('clickId: must be the 32 lower-case hex characters of adf_click_id');
      expect(body.message).toContain('conversionId');
      expect(body.message).toContain('unknown field "extra"');
      const future = await post({ clickId, conversionId: 'o-6', occurredAt: Date.now() + DAY_MS });
      expect(future.status).toBe(400);
      expect(await future.json()).toMatchObject({ message: expect.stringContaining('is in the future') });
    });

    it('refuses a click token replayed as an impression with 400 wrong_type', async () => {
      const claims = claimsFactory(ACME_AD, ACME);
      const { clickUrl } = trackingUrls({ baseUrl, claims, secret: SECRET });
      const replayed = clickUrl.replace('/v1/events/click?', '/v1/events/impression?');
      const res = await fetch(replayed);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        code: 'invalid_request',
        reason: 'wrong_type',
        message:
          'invalid tracking token (wrong_type): tracking token is a click token, not an impression token',
      });
      await idle();
      expect(await db.getRepository(TrackingEventEntity).countBy({ requestId: claims.r })).toBe(0);
    });

    it('counts every refusal by reason in Redis and on /metrics, and nothing for an accepted conversion', async () => {
      const before = await rejections();
      const scrape = async () => (await fetch(`${baseUrl}/metrics`)).text();
      const scrapedBefore = await scrape();
      const { clickId } = await click();
      const unknownClick = eventId('click', { r: 'nowhere', s: 1, a: ACME_AD.id });
      await post({ clickId, conversionId: 'c-1' }, null);
      await post({ clickId, conversionId: 'c-1' }, 'Bearer nope');
      await post({ clickId, conversionId: 'c-1' }, `Bearer ${keys.revoked}`);
      await post({ clickId, conversionId: 'c-1' }, `Bearer ${keys.other}`);
      await post({ clickId: unknownClick, conversionId: 'c-1' });
      await post({ clickId, conversionId: 'c-1', occurredAt: Date.now() - DAY_MS });
      await post({ clickId });
      expect((await post({ clickId, conversionId: 'c-1' })).status).toBe(202);

      const after = await rejections();
      const delta = (reason: string) => Number(after[reason] ?? 0) - Number(before[reason] ?? 0);
      expect({
        missing_credentials: delta('missing_credentials'),
        invalid_credentials: delta('invalid_credentials'),
        wrong_advertiser: delta('wrong_advertiser'),
        unknown_click: delta('unknown_click'),
        outside_window: delta('outside_window'),
        invalid_body: delta('invalid_body'),
      }).toEqual({
        missing_credentials: 1,
        invalid_credentials: 2,
        wrong_advertiser: 1,
        unknown_click: 1,
        outside_window: 1,
        invalid_body: 1,
      });
      expect(await redis.ttl(conversionRejectionsKey(prefix, Date.now()))).toBeGreaterThan(0);

      const scrapedAfter = await scrape();
      const rise = (name: string, labels: Record<string, string>) =>
        (metricValue(scrapedAfter, name, labels) ?? 0) - (metricValue(scrapedBefore, name, labels) ?? 0);
      const refused = (reason: string) =>
        rise('adfunnel_logging_events_rejected_total', { type: 'conversion', reason });
      expect(
        ['missing_credentials', 'invalid_credentials', 'wrong_advertiser', 'unknown_click'].map(refused),
      ).toEqual([1, 2, 1, 1]);
      expect(['outside_window', 'invalid_body'].map(refused)).toEqual([1, 1]);
      expect(rise('adfunnel_logging_events_accepted_total', { type: 'conversion' })).toBe(1);
    });

    it('reports delivery per campaign-day from the ledger: an advertiser its own, an operator all', async () => {
      await idle();
      const day = (t: number) => new Date(t).toISOString().slice(0, 10);
      const today = day(Date.now());
      const report = (query: string, authorization = `Bearer ${keys.acme}`) =>
        fetch(`${baseUrl}/v1/reports/campaigns?${query}`, { headers: { authorization } });

      const own = await report(`from=${today}`);
      expect(own.status).toBe(200);
      const body = (await own.json()) as {
        advertiserId: number | null;
        campaigns: {
          campaignId: number;
          advertiserId: number;
          spendMicros: number;
          clicks: number;
          conversions: number;
        }[];
      };
      expect(body.advertiserId).toBe(ACME);
      expect(body.campaigns.every((r) => r.advertiserId === ACME)).toBe(true);
      const acme = body.campaigns.find((r) => r.campaignId === ACME_AD.campaignId)!;
      const charged = (
        await db.getRepository(LedgerEntryEntity).findBy({ campaignId: ACME_AD.campaignId })
      ).reduce((sum, e) => sum + e.chargedMicros, 0);
      expect(acme.spendMicros).toBe(charged);
      expect(acme.spendMicros).toBeGreaterThan(0);
      expect(acme.clicks).toBeGreaterThan(0);
      expect(acme.conversions).toBeGreaterThan(0);

      expect((await report(`from=${today}&advertiserId=${OTHER}`)).status).toBe(403);
      expect((await fetch(`${baseUrl}/v1/reports/campaigns?from=${today}`)).status).toBe(401);
      const range = await report(`from=${today}&to=2020-01-01`);
      expect(range.status).toBe(400);
      expect(((await range.json()) as { message: string }).message).toContain('must not be after to');

      const all = await report(
        `from=${day(Date.now() - DAY_MS)}&to=${day(Date.now() + DAY_MS)}`,
        `Bearer ${ADMIN_TOKEN}`,
      );
      expect(all.status).toBe(200);
      const everything = (await all.json()) as { advertiserId: null; campaigns: { advertiserId: number }[] };
      expect(everything.advertiserId).toBeNull();
      expect(new Set(everything.campaigns.map((r) => r.advertiserId))).toEqual(new Set([ACME, OTHER]));

      // The other advertiser's campaign has delivery in the ledger: an API key gets a 404 for it, not
      // an empty report, word for word the answer for a campaign that does not exist.
      const theirs = await report(`from=${today}&campaignId=${OTHER_AD.campaignId}`);
      expect(theirs.status).toBe(404);
      expect(((await theirs.json()) as { message: string }).message).toBe(
        `campaign ${OTHER_AD.campaignId} not found`,
      );
      const none = await report(`from=${today}&campaignId=999999`);
      expect(none.status).toBe(404);
      expect(((await none.json()) as { message: string }).message).toBe('campaign 999999 not found');
      const operator = await report(
        `from=${day(Date.now() - DAY_MS)}&to=${day(Date.now() + DAY_MS)}&campaignId=${OTHER_AD.campaignId}`,
        `Bearer ${ADMIN_TOKEN}`,
      );
      expect(operator.status).toBe(200);
      const one = (await operator.json()) as { campaigns: { campaignId: number }[] };
      expect(one.campaigns.length).toBeGreaterThan(0);
      expect(one.campaigns.every((r) => r.campaignId === OTHER_AD.campaignId)).toBe(true);
    });
  },
);
