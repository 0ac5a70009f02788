import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobNames, Queues, type ServedRecord, type ServedRecordJob } from '@adfunnel/contracts';
import { ServedAdEntity } from '@adfunnel/event-store';
import { topicIndex } from '@adfunnel/features';
import {
  TEST_REDIS_URL,
  type TestStage,
  deleteRedisKeys,
  eventually,
  testDatabaseKinds,
  testRunId,
} from '@adfunnel/testing';
import { trackingUrls } from '@adfunnel/tracking';
import { UserActivityStore, foldQuery, userContextOf } from '@adfunnel/user-activity';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { LoggingModule } from '../logging.module.js';
import { LoggingQueuesService } from '../queues/logging-queues.service.js';
import { adFactory, seedAcmeCatalog } from '../testing/acme-catalog.js';
import { startLoggingStage } from '../testing/logging-test-stage.js';
import { servedAdClaimsFactory } from '../testing/served-ad-claims.factory.js';

const SECRET = 'activity-int-spec-secret-0123456789';
const BOOKS = topicIndex('books');
const GARDEN = topicIndex('garden');

/**
 * Logging writes the users' activity from what it stored; the gateway reads it with
 * UserActivityStore.read and builds the context with userContextOf (apps/gateway's
 * UserProfileService), which is what these tests read back.
 */
describe.each(testDatabaseKinds('activity').map((b) => [b.name, b] as const))(
  `user activity written by ${LoggingModule.name} on %s`,
  (_name, backend) => {
    const prefix = testRunId('activity_test');
    let drop: (() => Promise<void>) | undefined;
    let stage: TestStage;
    let db: DataSource;
    let queues: LoggingQueuesService;
    let redis: Redis;
    let activity: UserActivityStore;
    let users = 0;
    const nextUser = () => `au${String(++users).padStart(4, '0')}`;

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
    /** What the gateway would send the stages for the user's next request. */
    const nextContext = async (userId: string) =>
      userContextOf({ userId, country: 'DE', device: 'mobile' }, await activity.read(userId), Date.now());
    const addServed = (records: ServedRecord[], jobId: string) =>
      stage.app
        .get<Queue<ServedRecordJob>>(getQueueToken(Queues.served))
        .add(JobNames.persistServed, { records }, { jobId, removeOnComplete: true, removeOnFail: false });
    const servedRecord = (
      requestId: string,
      userId: string,
      overrides: Partial<ServedRecord> = {},
    ): ServedRecord => ({
      requestId,
      servedAt: Date.now(),
      userId,
      surface: 'search',
      country: 'DE',
      device: 'mobile',
      modelVersion: null,
      featureDim: null,
      degraded: [],
      ads: [42, 43].map((adId, slot) => ({
        slot,
        adId,
        campaignId: 10,
        advertiserId: 1,
        bidType: 'CPC' as const,
        bid: 0.8,
        price: 0.5,
        pCtr: null,
        pCvr: null,
        features: null,
      })),
      ...overrides,
    });

    beforeAll(async () => {
      const target = await backend.create();
      drop = target.drop;
      await seedAcmeCatalog(target.database, {
        ads: [
          adFactory({ id: 42, campaignId: 10, category: 'books' }),
          adFactory({ id: 43, campaignId: 10, category: 'garden' }),
        ],
      });
      stage = await startLoggingStage(prefix, { ...target.env, TRACKING_SECRET: SECRET });
      db = stage.app.get(DataSource);
      queues = stage.app.get(LoggingQueuesService);
      redis = new Redis(TEST_REDIS_URL);
      activity = new UserActivityStore(redis, { prefix });
    }, 60_000);

    afterAll(async () => {
      await stage?.close();
      redis?.disconnect();
      await deleteRedisKeys(prefix);
      await drop?.();
    }, 60_000);

    it("shows a stored click in the user's next context within seconds, and in its country's trending ads", async () => {
      const userId = nextUser();
      const requestId = `req-${userId}-click`;
      await addServed([servedRecord(requestId, userId)], `served:${requestId}`);
      await eventually(
        'the served rows',
        () => db.getRepository(ServedAdEntity).countBy({ requestId }),
        (n) => n === 2,
      );
      const urls = trackingUrls({
        baseUrl: stage.url,
        claims: servedAdClaimsFactory({ r: requestId, u: userId, a: 42, s: 0 }),
        secret: SECRET,
      });
      expect((await fetch(urls.impressionUrl)).status).toBe(204);
      expect((await fetch(urls.clickUrl, { redirect: 'manual' })).status).toBe(302);

      const user = await eventually(
        'the click in the user context',
        () => nextContext(userId),
        (u) => u.activity?.recentAdIds[0] === 42,
      );
      expect(user.known).toBe(true);
      expect(user.activity!.recentAdvertiserIds).toEqual([1]);
      expect(user.activity!.clicksByCategory[BOOKS]).toBeGreaterThan(0.99);
      expect(user.interests.indexOf(Math.max(...user.interests))).toBe(BOOKS);
      expect(user.interests.reduce((a, b) => a + b)).toBeCloseTo(1, 9);
      // Counted in the country of the request the click came from (its served row), right after the fold.
      const trending = await eventually(
        'the click in trending',
        () => activity.trending('DE', 10, Date.now()),
        (ads) => ads.length > 0,
      );
      expect(trending.map((t) => t.adId)).toEqual([42]);
      expect(trending[0].clicks).toBeGreaterThan(0.99);
    });

    it('counts a repeated impression, click and hide once', async () => {
      const userId = nextUser();
      const claims = servedAdClaimsFactory({ r: `req-${userId}-dup`, u: userId, a: 43, s: 1 });
      const urls = trackingUrls({ baseUrl: stage.url, claims, secret: SECRET });
      for (let i = 0; i < 3; i++) {
        await Promise.all([fetch(urls.impressionUrl), fetch(urls.clickUrl, { redirect: 'manual' })]);
      }
      await fetch(urls.hideUrl);
      await idle();
      // Late repeats, after the first copies left the queue, reach the worker: nothing is folded again.
      await Promise.all([
        fetch(urls.impressionUrl),
        fetch(urls.clickUrl, { redirect: 'manual' }),
        fetch(urls.hideUrl),
      ]);
      await idle();

      const state = (await activity.read(userId))!;
      // Each exactly one event, decayed by the few seconds between them at most.
      for (const counts of [state.impressionsByCategory, state.clicksByCategory, state.hidesByCategory]) {
        expect(counts[GARDEN]).toBeGreaterThan(0.999);
        expect(counts[GARDEN]).toBeLessThanOrEqual(1);
        expect(counts.reduce((a, b) => a + b)).toBe(counts[GARDEN]);
      }
      // The hide took the ad back out of the recent lists.
      expect(state.recentAdIds).toEqual([]);
    });

    it('folds a request query once, not once per ad or per delivery, and stores it with the served rows', async () => {
      const userId = nextUser();
      const snapshot = foldQuery(null, 'older query', Date.now() - 60_000);
      const lamp = servedRecord(`req-${userId}-1`, userId, {
        query: 'Desk Lamp',
        contextAdId: 43,
        userActivity: snapshot,
      });
      const desk = servedRecord(`req-${userId}-2`, userId, { query: 'desk', servedAt: lamp.servedAt + 1 });
      await addServed([lamp], `served:${lamp.requestId}:a`);
      await idle();
      await addServed([desk], `served:${desk.requestId}:a`);
      await idle();
      // The first request delivered again: a second fold would put its query first again.
      await addServed([lamp], `served:${lamp.requestId}:b`);
      await idle();

      expect((await activity.read(userId))!.recentQueries).toEqual(['desk', 'desk lamp']);
      const rows = await db
        .getRepository(ServedAdEntity)
        .find({ where: { requestId: lamp.requestId }, order: { slot: 'ASC' } });
      expect(rows.map((r) => [r.slot, r.query, r.contextAdId, r.userActivity])).toEqual([
        [0, 'Desk Lamp', 43, snapshot],
        [1, 'Desk Lamp', 43, snapshot],
      ]);
      const [plain] = await db.getRepository(ServedAdEntity).findBy({ requestId: desk.requestId, slot: 0 });
      expect([plain.query, plain.contextAdId, plain.userActivity]).toEqual(['desk', null, null]);
    });
  },
);
