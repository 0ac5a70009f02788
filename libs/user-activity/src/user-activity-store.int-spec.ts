import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { UserActivity } from '@adfunnel/contracts';
import { Redis } from 'ioredis';
import {
  type OrganicActivity,
  REMEMBERED_ORGANIC_EVENTS,
  UserActivityStore,
  trendingAds,
} from './user-activity-store.js';
import { type ActivityEvent, foldEngagement, foldEvent, foldQuery } from './user-activity.js';

// libs/testing depends on this library (its user-context factory), so this spec names the machine's
// Redis itself (TEST_REDIS_URL) and cleans up its own prefix.
const REDIS_URL = 'redis://127.0.0.1:6379';
const HOUR = 3_600_000;
const HALF_LIFE = 24 * HOUR;
const T0 = Date.UTC(2026, 11, 1, 12);

function expectSameActivity(actual: UserActivity | null, expected: UserActivity): void {
  expect(actual).not.toBeNull();
  const {
    impressionsByCategory,
    clicksByCategory,
    hidesByCategory,
    conversionsByCategory,
    engagementsByCategory,
    ...rest
  } = actual!;
  const counts = { impressionsByCategory, clicksByCategory, hidesByCategory, conversionsByCategory };
  for (const [field, values] of Object.entries(counts)) {
    values.forEach((v, k) => expect(v).toBeCloseTo(expected[field as keyof typeof counts][k], 12));
  }
  expect(engagementsByCategory === undefined).toBe(expected.engagementsByCategory === undefined);
  engagementsByCategory?.forEach((v, k) => expect(v).toBeCloseTo(expected.engagementsByCategory![k], 12));
  expect(rest).toEqual({
    recentAdIds: expected.recentAdIds,
    recentAdvertiserIds: expected.recentAdvertiserIds,
    recentQueries: expected.recentQueries,
    updatedAt: expected.updatedAt,
  });
}

describe(UserActivityStore.name, () => {
  const prefix = `user_activity_test_${randomUUID().slice(0, 12)}`;
  let redis: Redis;
  let sut: UserActivityStore;
  let users = 0;
  const nextUser = () => `u${++users}`;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    sut = new UserActivityStore(redis, {
      prefix,
      halfLifeMs: HALF_LIFE,
      trendingHalfLifeMs: HOUR,
      trendingMaxAds: 5,
    });
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('folds events and queries exactly as the pure reducer does, late ones included', async () => {
    const user = nextUser();
    const steps: ({ event: ActivityEvent } | { query: string; at: number; requestId: string })[] = [
      { event: { type: 'impression', adId: 1, advertiserId: 10, categoryIndex: 2, at: T0 } },
      { event: { type: 'click', adId: 1, advertiserId: 10, categoryIndex: 2, at: T0 + 5_000 } },
      { query: 'Garden  Hose', at: T0 + 6_000, requestId: 'r1' },
      { event: { type: 'impression', adId: 2, advertiserId: 11, categoryIndex: 5, at: T0 + 3 * HOUR } },
      { event: { type: 'click', adId: 3, advertiserId: 12, categoryIndex: 5, at: T0 + 30 * HOUR } },
      // late: before the state's updatedAt
      { event: { type: 'conversion', adId: 1, advertiserId: 10, categoryIndex: 2, at: T0 + 10_000 } },
      { query: 'tent', at: T0 + HOUR, requestId: 'r2' },
      { event: { type: 'hide', adId: 3, advertiserId: 12, categoryIndex: 5, at: T0 + 31 * HOUR } },
      { event: { type: 'click', adId: 4, advertiserId: 10, categoryIndex: 15, at: T0 + 40 * HOUR } },
    ];
    let expected: UserActivity | null = null;
    for (const step of steps) {
      if ('event' in step) {
        await sut.record(user, step.event);
        expected = foldEvent(expected, step.event, HALF_LIFE);
      } else {
        expect(await sut.recordQuery(user, step.requestId, step.query, step.at)).toBe(true);
        expected = foldQuery(expected, step.query, step.at, HALF_LIFE);
      }
      expectSameActivity(await sut.read(user), expected);
    }
    expect(expected!.recentAdIds).toEqual([4, 1]);
    expect(expected!.recentQueries).toEqual(['garden hose', 'tent']);
  });

  it('folds organic reports as the pure reducers do, interleaved with ad events, late ones included', async () => {
    const user = nextUser();
    const click: ActivityEvent = { type: 'click', adId: 1, advertiserId: 10, categoryIndex: 2, at: T0 };
    const reports: OrganicActivity[][] = [
      [
        { id: 'e1', type: 'engagement', categoryIndex: 4, at: T0 + HOUR },
        { id: 'e2', type: 'search', query: 'dog bed', at: T0 + 2 * HOUR },
        { id: 'e3', type: 'engagement', categoryIndex: 4, at: T0 + 30 * HOUR },
      ],
      // late, before the state's updatedAt, and a category new to the state
      [{ id: 'e4', type: 'engagement', categoryIndex: 9, at: T0 + 3 * HOUR }],
    ];
    await sut.record(user, click);
    let expected = foldEvent(null, click, HALF_LIFE);
    for (const report of reports) {
      expect(await sut.recordOrganic(user, report)).toEqual({ folded: report.length, duplicates: 0 });
      for (const e of report) {
        expected =
          e.type === 'engagement'
            ? foldEngagement(expected, e.categoryIndex, e.at, HALF_LIFE)
            : foldQuery(expected, e.query, e.at, HALF_LIFE);
      }
      expectSameActivity(await sut.read(user), expected);
    }
    const later: ActivityEvent = { ...click, type: 'impression', at: T0 + 50 * HOUR };
    await sut.record(user, later);
    expectSameActivity(await sut.read(user), foldEvent(expected, later, HALF_LIFE));
    await sut.recordQuery(user, 'r9', 'lamp', T0 + 60 * HOUR);
    expectSameActivity(
      await sut.read(user),
      foldQuery(foldEvent(expected, later, HALF_LIFE), 'lamp', T0 + 60 * HOUR, HALF_LIFE),
    );
  });

  it('counts a retried organic report once, and an id twice in one report once', async () => {
    const user = nextUser();
    const report: OrganicActivity[] = [
      { id: 'a', type: 'engagement', categoryIndex: 1, at: T0 },
      { id: 'b', type: 'engagement', categoryIndex: 1, at: T0 },
      { id: 'a', type: 'engagement', categoryIndex: 1, at: T0 },
    ];
    expect(await sut.recordOrganic(user, report)).toEqual({ folded: 2, duplicates: 1 });
    expect(await sut.recordOrganic(user, report)).toEqual({ folded: 0, duplicates: 3 });
    expect((await sut.read(user))!.engagementsByCategory![1]).toBe(2);
    expect(await redis.zcard(sut.keys.organicIds(user))).toBe(2);
    // the id set is bounded, and the hash read on the serving path does not carry it
    const many = Array.from({ length: REMEMBERED_ORGANIC_EVENTS + 5 }, (_, i): OrganicActivity => ({
      id: `m${i}`,
      type: 'engagement',
      categoryIndex: 0,
      at: T0 + 1 + i,
    }));
    for (let i = 0; i < many.length; i += 100) await sut.recordOrganic(user, many.slice(i, i + 100));
    expect(await redis.zcard(sut.keys.organicIds(user))).toBe(REMEMBERED_ORGANIC_EVENTS);
    expect(Object.keys(await redis.hgetall(sut.keys.user(user)))).not.toContain('organic-ids');
  });

  it('refuses a report with a bad event before folding any of it', async () => {
    const user = nextUser();
    await expect(
      sut.recordOrganic(user, [
        { id: 'ok', type: 'engagement', categoryIndex: 1, at: T0 },
        { id: 'bad', type: 'engagement', categoryIndex: 99, at: T0 },
      ]),
    ).rejects.toThrow(/category index must be an integer from 0 to 15, got 99/);
    await expect(
      sut.recordOrganic(user, [{ id: 'q', type: 'search', query: ' Lamp', at: T0 }]),
    ).rejects.toThrow(/must be normalized/);
    await expect(
      sut.recordOrganic(user, [{ id: 'has space', type: 'engagement', categoryIndex: 1, at: T0 }]),
    ).rejects.toThrow(/event id/);
    expect(await sut.read(user)).toBeNull();
  });

  it('answers null for a user it never saw, and reads many users in one call', async () => {
    const [alice, bob, nobody] = [nextUser(), nextUser(), nextUser()];
    expect(await sut.read(nobody)).toBeNull();
    const click: ActivityEvent = { type: 'click', adId: 7, advertiserId: 70, categoryIndex: 1, at: T0 };
    await sut.record(alice, click);
    await sut.record(bob, { ...click, adId: 8 });
    const many = await sut.readMany([alice, nobody, bob]);
    expect([...many.keys()]).toEqual([alice, bob]);
    expect(many.get(bob)!.recentAdIds).toEqual([8]);
    expect(await sut.readMany([])).toEqual(new Map());
  });

  it('folds a request query once, however often the request is delivered', async () => {
    const user = nextUser();
    expect(await sut.recordQuery(user, 'req-1', 'lamp', T0)).toBe(true);
    expect(await sut.recordQuery(user, 'req-2', 'desk', T0 + 1)).toBe(true);
    expect(await sut.recordQuery(user, 'req-1', 'lamp', T0)).toBe(false);
    expect(await sut.recordQuery(user, 'req-3', '   ', T0 + 2)).toBe(false);
    expect((await sut.read(user))!.recentQueries).toEqual(['desk', 'lamp']);
  });

  it('loses no update when many folds of one user run at once', async () => {
    const user = nextUser();
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        sut.record(user, { type: 'impression', adId: 1 + i, advertiserId: 1, categoryIndex: i % 4, at: T0 }),
      ),
    );
    const state = await sut.read(user);
    expect(state!.impressionsByCategory.slice(0, 5)).toEqual([50, 50, 50, 50, 0]);
  });

  it('expires a user state TTL after its last write', async () => {
    const user = nextUser();
    const short = new UserActivityStore(redis, { prefix, ttlMs: 60_000 });
    await short.record(user, { type: 'click', adId: 1, advertiserId: 1, categoryIndex: 0, at: T0 });
    const ttl = await redis.pttl(short.keys.user(user));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  describe('trending', () => {
    it('orders ads by decayed clicks, per country, trimmed to the most clicked', async () => {
      for (const [adId, clicks] of [
        [1, 3],
        [2, 1],
        [3, 2],
      ] as const) {
        for (let i = 0; i < clicks; i++) await sut.bumpTrending('DE', adId, T0);
      }
      await sut.bumpTrending('FR', 9, T0);
      // two fresh clicks an hour later outweigh three an hour old (3/2 = 1.5 < 2)
      await sut.bumpTrending('DE', 4, T0 + HOUR);
      await sut.bumpTrending('DE', 4, T0 + HOUR);
      const de = await sut.trending('DE', 10, T0 + HOUR);
      expect(de.map((a) => a.adId)).toEqual([4, 1, 3, 2]);
      expect(de[0].clicks).toBeCloseTo(2, 9);
      expect(de[1].clicks).toBeCloseTo(1.5, 9);
      expect((await sut.trending('FR', 10, T0)).map((a) => a.adId)).toEqual([9]);
      expect(await sut.trending('JP', 10, T0)).toEqual([]);
      // the free function reads the same keys with the same settings
      expect(await trendingAds(redis, 'DE', 2, { prefix, halfLifeMs: HOUR, now: T0 + HOUR })).toEqual(
        de.slice(0, 2),
      );

      for (const adId of [5, 6, 7]) await sut.bumpTrending('DE', adId, T0 + 2 * HOUR);
      expect(await redis.zcard(sut.keys.trending('DE'))).toBe(5);
    });

    it('stays finite and in order across a rescale of its epoch, whatever the clock', async () => {
      await sut.bumpTrending('GB', 1, T0);
      await sut.bumpTrending('GB', 1, T0);
      const later = T0 + 100 * HOUR;
      await sut.bumpTrending('GB', 2, later);
      expect(Number(await redis.get(sut.keys.trendingEpoch('GB')))).toBe(later);
      const gb = await sut.trending('GB', 10, later);
      expect(gb.map((a) => a.adId)).toEqual([2, 1]);
      expect(gb[0].clicks).toBeCloseTo(1, 9);
      expect(gb[1].clicks).toBeCloseTo(2 * 2 ** -100, 20);
    });
  });
});
