import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BudgetStore } from '@adfunnel/budget';
import {
  JobNames,
  Queues,
  SERVED_OUTCOME_LUA,
  type ServedRecord,
  type ServedRecordJob,
  type TrackingEventJob,
  type TrackingEventsJob,
  servedOutcomeKey,
} from '@adfunnel/contracts';
import {
  CampaignDaySpendEntity,
  LedgerEntryEntity,
  ServedAdEntity,
  TrackingEventEntity,
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
import { eventId, trackingUrls } from '@adfunnel/tracking';
import { billingDay } from '@adfunnel/utility';
import { RedisScript } from '@adfunnel/redis';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { SpendPublisher } from './event-store/spend-publisher.service.js';
import { LoggingModule } from './logging.module.js';
import { LoggingQueuesService } from './queues/logging-queues.service.js';
import { EventsService } from './tracking/events.service.js';
import { adFactory, seedAcmeCatalog } from './testing/acme-catalog.js';
import { startLoggingStage } from './testing/logging-test-stage.js';
import { servedAdClaimsFactory } from './testing/served-ad-claims.factory.js';

const SECRET = 'logging-int-spec-secret-0123456789';
const LANDING_URL = 'https://shop.example.com/p/42?utm_source=adfunnel';

function servedRecordFactory(overrides: Partial<ServedRecord> = {}): ServedRecord {
  return {
    requestId: `req-${randomUUID()}`,
    servedAt: Date.now(),
    userId: 'u00001',
    surface: 'home_feed',
    country: 'US',
    device: 'mobile',
    modelVersion: 'test-model',
    featureDim: 3,
    degraded: [],
    ads: [
      {
        slot: 0,
        adId: 42,
        campaignId: 10,
        advertiserId: 1,
        bidType: 'CPC',
        bid: 0.8,
        price: 0.5,
        pCtr: 0.02,
        pCvr: 0.1,
        features: [0.25, 1, 0],
      },
      {
        slot: 1,
        adId: 43,
        campaignId: 10,
        advertiserId: 1,
        bidType: 'CPC',
        bid: 0.8,
        price: 0.4,
        pCtr: 0.01,
        pCvr: null,
        features: [0.5, 0, 1],
      },
    ],
    ...overrides,
  };
}

describe.each(testDatabaseKinds('logging').map((b) => [b.name, b] as const))(
  `${LoggingModule.name} on %s`,
  (_name, backend) => {
    const prefix = testRunId('logging_test');
    let drop: (() => Promise<void>) | undefined;
    let stage: TestStage;
    let baseUrl: string;
    let db: DataSource;
    let queues: LoggingQueuesService;

    const idle = () =>
      eventually(
        'the queues to drain',
        () => queues.depth(),
        (d) =>
          d.events.waiting +
            d.events.active +
            d.events.delayed +
            d.served.waiting +
            d.served.active +
            d.served.delayed ===
          0,
      );
    const eventsOf = (requestId: string) => db.getRepository(TrackingEventEntity).findBy({ requestId });
    const scrape = async () => (await fetch(`${baseUrl}/metrics`)).text();
    /** How much `name{labels}` rose from the scrape `before` to the scrape `after`. */
    const rise = (before: string, after: string, name: string, labels: Record<string, string> = {}) =>
      (metricValue(after, name, labels) ?? 0) - (metricValue(before, name, labels) ?? 0);

    beforeAll(async () => {
      const target = await backend.create();
      drop = target.drop;
      await seedAcmeCatalog(target.database, {
        ads: [
          adFactory({ id: 42, campaignId: 10, landingUrl: LANDING_URL }),
          adFactory({ id: 43, campaignId: 10 }),
        ],
      });
      stage = await startLoggingStage(prefix, { ...target.env, TRACKING_SECRET: SECRET });
      baseUrl = stage.url;
      db = stage.app.get(DataSource);
      queues = stage.app.get(LoggingQueuesService);
    });

    afterAll(async () => {
      await stage?.close();
      await deleteRedisKeys(prefix);
      await drop?.();
    });

    it('stores a repeated impression once and redirects a click to the catalog landing URL', async () => {
      const claims = servedAdClaimsFactory();
      const urls = trackingUrls({ baseUrl, claims, secret: SECRET });

      const [first, second] = await Promise.all([fetch(urls.impressionUrl), fetch(urls.impressionUrl)]);
      expect([first.status, second.status]).toEqual([204, 204]);
      expect(await first.text()).toBe('');
      const click = await fetch(urls.clickUrl, { redirect: 'manual' });
      expect(click.status).toBe(302);
      expect(click.headers.get('location')).toBe(`${LANDING_URL}&adf_click_id=${eventId('click', claims)}`);
      expect(click.headers.get('cache-control')).toBe('no-store');

      await eventually(
        'impression and click rows',
        () => eventsOf(claims.r),
        (rows) => rows.length === 2,
      );
      // Once the first copy is stored and gone from the queue, a late repeat reaches the worker: the insert ignores it.
      expect((await fetch(urls.impressionUrl)).status).toBe(204);
      await idle();

      const rows = await eventsOf(claims.r);
      const byType = (type: string) => rows.filter((row) => row.type === type);
      expect(byType('impression')).toHaveLength(1);
      expect(byType('click')).toHaveLength(1);
      expect(byType('impression')[0]).toMatchObject({
        adId: 42,
        campaignId: 10,
        slot: 0,
        bidType: 'CPC',
        price: 0.5,
        cost: 0,
      });
      expect(byType('click')[0]).toMatchObject({ adId: 42, userId: 'u00001', servedAt: claims.t, cost: 0.5 });
    });

    it('charges a CPM impression a thousandth of the price', async () => {
      const claims = servedAdClaimsFactory({ a: 43, bt: 'CPM', p: 3 });
      const { impressionUrl } = trackingUrls({ baseUrl, claims, secret: SECRET });
      expect((await fetch(impressionUrl)).status).toBe(204);
      const [row] = await eventually(
        'the CPM impression',
        () => eventsOf(claims.r),
        (rows) => rows.length === 1,
      );
      expect(row.cost).toBeCloseTo(0.003, 12);
    });

    it('adds the impressions accepted in one turn as one job and stores and charges each once', async () => {
      await idle();
      const before = await scrape();
      const events = stage.app.get(EventsService);
      const r = `together-${randomUUID()}`;
      const tokens = [0, 1, 2].map((s) => {
        const claims = servedAdClaimsFactory({ r, s, a: 43, bt: 'CPM', p: 3 });
        return new URL(trackingUrls({ baseUrl, claims, secret: SECRET }).impressionUrl).searchParams.get(
          't',
        )!;
      });

      await Promise.all([...tokens, tokens[0]].map((token) => events.impression(token)));
      await idle();

      const completed = (text: string) =>
        rise(before, text, 'adfunnel_logging_jobs_total', { queue: Queues.events, outcome: 'completed' });
      expect(
        completed(await eventually('the job counted on /metrics', scrape, (t) => completed(t) >= 1)),
      ).toBe(1);
      expect((await eventsOf(r)).map((row) => row.slot).sort()).toEqual([0, 1, 2]);
      const ledger = await db.getRepository(LedgerEntryEntity).findBy({ requestId: r });
      expect(ledger.map((entry) => entry.chargedMicros)).toEqual([3000, 3000, 3000]);
    });

    it('stores the good events of a batch that cannot be stored together one by one, and fails the job for the rest', async () => {
      const queue = stage.app.get<Queue<TrackingEventsJob>>(getQueueToken(Queues.events));
      const r = `mixed-${randomUUID()}`;
      const eventJob = (slot: number): TrackingEventJob => {
        const claims = servedAdClaimsFactory({ r, s: slot, a: 43, bt: 'CPM', p: 3 });
        return {
          eventId: eventId('impression', claims),
          type: 'impression',
          requestId: r,
          userId: claims.u,
          adId: claims.a,
          campaignId: claims.c,
          advertiserId: claims.adv,
          slot,
          bidType: claims.bt,
          price: claims.p,
          servedAt: claims.t,
          occurredAt: Date.now(),
        };
      };
      const broken = { ...eventJob(1), userId: null as unknown as string };

      const job = await queue.add(
        JobNames.persistEvents,
        { events: [eventJob(0), broken, eventJob(2)] },
        { jobId: `events:${r}`, attempts: 1, removeOnComplete: true, removeOnFail: false },
      );
      const failed = await eventually(
        'the job to fail',
        () => queue.getJob(job.id),
        (found) => found !== null && found.failedReason !== undefined,
      );

      expect((await eventsOf(r)).map((row) => row.slot).sort()).toEqual([0, 2]);
      const ledger = await db.getRepository(LedgerEntryEntity).findBy({ requestId: r });
      expect(ledger.map((entry) => entry.chargedMicros)).toEqual([3000, 3000]);
      await failed?.remove();
    });

    it('no longer takes a click token as a conversion (conversions: POST /v1/conversions with an API key)', async () => {
      const claims = servedAdClaimsFactory({ bt: 'CPA', p: 12 });
      const token = new URL(trackingUrls({ baseUrl, claims, secret: SECRET }).clickUrl).searchParams.get(
        't',
      )!;
      const res = await fetch(`${baseUrl}/v1/events/conversion`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ t: token }),
      });
      expect(res.status).toBe(404);
      await idle();
      expect(await eventsOf(claims.r)).toHaveLength(0);
    });

    it('refuses a forged, tampered, expired or missing token with 400 and says why', async () => {
      const claims = servedAdClaimsFactory();
      const { impressionUrl, clickUrl } = trackingUrls({ baseUrl, claims, secret: SECRET });
      const forged = trackingUrls({
        baseUrl,
        claims: { ...claims, p: 0.01 },
        secret: 'not-the-real-secret-123',
      });

      const foreign = await fetch(forged.clickUrl, { redirect: 'manual' });
      expect(foreign.status).toBe(400);
      expect(await foreign.json()).toMatchObject({
        code: 'invalid_request',
        message: expect.stringContaining('invalid tracking token (unknown_key)'),
      });

      const [payload, signature] = new URL(clickUrl).searchParams.get('t')!.split('.');
      const cheaper = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), p: 0.01 };
      const altered = Buffer.from(JSON.stringify(cheaper)).toString('base64url');
      const tampered = await fetch(`${baseUrl}/v1/events/click?t=${altered}.${signature}`, {
        redirect: 'manual',
      });
      expect(tampered.status).toBe(400);
      expect(await tampered.json()).toMatchObject({
        code: 'invalid_request',
        message: expect.stringContaining('invalid tracking token (bad_signature)'),
      });

      const cut = await fetch(impressionUrl.slice(0, -3));
      expect(cut.status).toBe(400);
      expect((await cut.json()) as { message: string }).toMatchObject({
        message: expect.stringMatching(/invalid tracking token/),
      });

      const old = servedAdClaimsFactory({ t: Date.now() - 7_200_000, exp: Date.now() - 3_600_000 });
      const expired = await fetch(trackingUrls({ baseUrl, claims: old, secret: SECRET }).impressionUrl);
      expect(expired.status).toBe(400);
      expect(await expired.json()).toMatchObject({ message: expect.stringContaining('(expired)') });

      const missing = await fetch(`${baseUrl}/v1/events/click`, { redirect: 'manual' });
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({
        code: 'invalid_request',
        message: 'tracking token t is missing',
      });

      await idle();
      expect(await eventsOf(claims.r)).toHaveLength(0);
    });

    it('checks but does not count a HEAD request (link prefetchers)', async () => {
      const claims = servedAdClaimsFactory();
      const urls = trackingUrls({ baseUrl, claims, secret: SECRET });
      expect((await fetch(urls.impressionUrl, { method: 'HEAD' })).status).toBe(204);
      const head = await fetch(urls.clickUrl, { method: 'HEAD', redirect: 'manual' });
      expect(head.status).toBe(302);
      expect(head.headers.get('location')).toBe(`${LANDING_URL}&adf_click_id=${eventId('click', claims)}`);
      await idle();
      expect(await eventsOf(claims.r)).toHaveLength(0);
    });

    it('answers 404 for a click on an ad the catalog does not have, and does not bill it', async () => {
      const claims = servedAdClaimsFactory({ a: 999 });
      const response = await fetch(trackingUrls({ baseUrl, claims, secret: SECRET }).clickUrl, {
        redirect: 'manual',
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({
        code: 'not_found',
        message: 'ad 999 is not in the catalog',
      });
      await idle();
      expect(await eventsOf(claims.r)).toHaveLength(0);
    });

    it('stores one row per ad of a served job with its features, once however often it is delivered', async () => {
      const record = servedRecordFactory();
      const { requestId } = record;
      const served = stage.app.get<Queue<ServedRecordJob>>(getQueueToken(Queues.served));
      const add = (records: ServedRecord[], jobId: string) =>
        served.add(
          JobNames.persistServed,
          { records },
          { jobId, removeOnComplete: true, removeOnFail: false },
        );
      await add([record], `served:${requestId}:a`);
      await add([record], `served:${requestId}:b`);

      const rows = await eventually(
        'served rows',
        () => db.getRepository(ServedAdEntity).find({ where: { requestId }, order: { slot: 'ASC' } }),
        (found) => found.length === 2,
      );
      await idle();
      expect(await db.getRepository(ServedAdEntity).countBy({ requestId })).toBe(2);
      expect(rows.map((row) => [row.id, row.adId, row.features, row.featureDim])).toEqual([
        [`${requestId}:0`, 42, [0.25, 1, 0], 3],
        [`${requestId}:1`, 43, [0.5, 0, 1], 3],
      ]);
    });

    it('stores a served job only when its outcome in Redis says its answers carried the ads', async () => {
      const served = stage.app.get<Queue<ServedRecordJob>>(getQueueToken(Queues.served));
      const decide = new RedisScript('decide', SERVED_OUTCOME_LUA.decide);
      const [shown, withheld, undecided] = ['shown', 'withheld', 'undecided'].map((name) =>
        servedRecordFactory({ requestId: `${name}-${randomUUID()}` }),
      );
      const add = async (record: ServedRecord, outcome: string | null) => {
        const jobId = `served:${record.requestId}:o`;
        const outcomeKey = servedOutcomeKey(prefix, jobId);
        if (outcome !== null) await decide.run(served.client, [outcomeKey], [outcome, 60_000]);
        await served.add(
          JobNames.persistServed,
          { records: [record], outcomeKey },
          { jobId, removeOnComplete: true, removeOnFail: false },
        );
        return outcomeKey;
      };
      const failedBefore = await served.getFailedCount();
      // The gateway withheld one (its answer went out without ads) and never decided another.
      const withheldKey = await add(withheld, 'withheld');
      const undecidedKey = await add(undecided, null);
      const shownKey = await add(shown, 'served');

      await eventually(
        'the shown record stored',
        () => db.getRepository(ServedAdEntity).countBy({ requestId: shown.requestId }),
        (n) => n === 2,
      );
      await idle();
      const rows = (requestId: string) => db.getRepository(ServedAdEntity).countBy({ requestId });
      expect([await rows(withheld.requestId), await rows(undecided.requestId)]).toEqual([0, 0]);
      expect(await served.getFailedCount()).toBe(failedBefore);
      // Taken: a late withdrawal would find `stored`; the undecided one can no longer be decided served.
      expect(await served.client.mget(shownKey, withheldKey, undecidedKey)).toEqual([
        'stored',
        'withheld',
        'withheld',
      ]);
    });

    it('fails a served job holding an inconsistent record for good, storing none of it', async () => {
      const served = stage.app.get<Queue<ServedRecordJob>>(getQueueToken(Queues.served));
      const good = servedRecordFactory();
      const inconsistent = servedRecordFactory({
        ads: [{ ...servedRecordFactory().ads[0], features: [1, 2] }],
      });
      // Before the add: the worker may fail the job before a scrape after it would answer.
      const before = await scrape();
      const job = await served.add(
        JobNames.persistServed,
        { records: [good, inconsistent] },
        { jobId: `served:${good.requestId}:x`, attempts: 5, removeOnComplete: true, removeOnFail: false },
      );

      const failed = await eventually(
        'the job to fail',
        () => served.getJob(job.id),
        (found) => found !== null && found.failedReason !== undefined,
      );
      expect(failed?.failedReason).toContain(
        'records[1].ads[0]: slot 0 has 2 features, expected featureDim 3',
      );
      expect(failed?.attemptsMade).toBe(1);
      expect(await db.getRepository(ServedAdEntity).countBy({ requestId: good.requestId })).toBe(0);
      // Failed for good on its first attempt, not retried: /metrics says so.
      const failures = (after: string) => ({
        failed: rise(before, after, 'adfunnel_logging_jobs_total', {
          queue: Queues.served,
          outcome: 'failed',
        }),
        retried: rise(before, after, 'adfunnel_logging_jobs_total', {
          queue: Queues.served,
          outcome: 'retried',
        }),
      });
      const counted = await eventually('the failure on /metrics', scrape, (t) => failures(t).failed > 0);
      expect(failures(counted)).toEqual({ failed: 1, retried: 0 });
      await failed?.remove();
    });

    it('charges the ledger, publishes the spend to the serve-time budget state, and rebuilds it from the ledger', async () => {
      const claims = servedAdClaimsFactory({ a: 43, bt: 'CPM', p: 4, r: `budget-${prefix}` });
      const { impressionUrl } = trackingUrls({ baseUrl, claims, secret: SECRET });
      expect((await fetch(impressionUrl)).status).toBe(204);
      await eventually(
        'the ledger entry',
        () => db.getRepository(LedgerEntryEntity).findBy({ requestId: claims.r }),
        (rows) => rows.length === 1,
      );
      const day = billingDay(Date.now(), 'UTC');
      const [spend] = await db
        .getRepository(CampaignDaySpendEntity)
        .findBy({ campaignId: 10, billingDay: day });
      expect(spend?.chargedMicros).toBeGreaterThanOrEqual(4000);

      const redis = new Redis(TEST_REDIS_URL);
      try {
        const budget = new BudgetStore(redis, prefix);
        const published = async () => (await budget.spendOf(day, [10])).get(10);
        await eventually('the published spend', published, (micros) => micros === spend.chargedMicros);

        await redis.del(budget.keys.spend(day));
        expect(await published()).toBe(0);
        await stage.app.get(SpendPublisher).rebuild();
        expect(await published()).toBe(spend.chargedMicros);
      } finally {
        redis.disconnect();
      }
    });

    it('counts on /metrics the events accepted and refused, stored, charged, and the queue depths', async () => {
      const before = await scrape();
      const claims = servedAdClaimsFactory({ a: 43, bt: 'CPM', p: 2, r: `metrics-${prefix}` });
      const urls = trackingUrls({ baseUrl, claims, secret: SECRET });
      const old = servedAdClaimsFactory({ t: Date.now() - 7_200_000, exp: Date.now() - 3_600_000 });

      expect((await fetch(urls.impressionUrl)).status).toBe(204);
      expect((await fetch(urls.impressionUrl, { method: 'HEAD' })).status).toBe(204);
      const expired = trackingUrls({ baseUrl, claims: old, secret: SECRET }).clickUrl;
      expect((await fetch(expired, { redirect: 'manual' })).status).toBe(400);
      await eventually(
        'the ledger entry',
        () => db.getRepository(LedgerEntryEntity).findBy({ requestId: claims.r }),
        (rows) => rows.length === 1,
      );
      await idle();
      const completed = (text: string) =>
        rise(before, text, 'adfunnel_logging_jobs_total', { queue: Queues.events, outcome: 'completed' });
      const after = await eventually('the job counted on /metrics', scrape, (t) => completed(t) >= 1);

      expect(rise(before, after, 'adfunnel_logging_events_accepted_total', { type: 'impression' })).toBe(1);
      expect(rise(before, after, 'adfunnel_logging_events_accepted_total')).toBe(1);
      expect(
        rise(before, after, 'adfunnel_logging_events_rejected_total', { type: 'click', reason: 'expired' }),
      ).toBe(1);
      expect(
        rise(before, after, 'adfunnel_logging_events_stored_total', {
          type: 'impression',
          outcome: 'stored',
        }),
      ).toBe(1);
      const cost =
        rise(before, after, 'adfunnel_spend_charged_usd_total', { bid_type: 'CPM' }) +
        rise(before, after, 'adfunnel_spend_overdelivered_usd_total', { bid_type: 'CPM' });
      expect(cost).toBeCloseTo(0.002, 9);
      for (const queue of [Queues.events, Queues.served, Queues.shadow]) {
        expect(metricValue(after, 'adfunnel_logging_queue_jobs', { queue, state: 'waiting' })).toBe(0);
        expect(metricValue(after, 'adfunnel_logging_queue_jobs', { queue, state: 'active' })).toBe(0);
      }
    });

    it('reports queue depth in /health', async () => {
      const response = await fetch(`${baseUrl}/health`);
      const body = (await response.json()) as { details: Record<string, { status: string }> };
      expect(body.details['queues']).toMatchObject({
        status: 'up',
        events: { failed: 0 },
        served: { failed: 0 },
      });
      expect(body.details['database']).toMatchObject({ status: 'up' });
      expect(body.details['redis']).toMatchObject({ status: 'up' });
    });
  },
);
