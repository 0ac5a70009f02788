import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdRequest } from '@adfunnel/contracts';
import { topicIndex } from '@adfunnel/features';
import { TEST_REDIS_URL, deleteRedisKeys, eventually, freePort, testRunId } from '@adfunnel/testing';
import { UserActivityStore } from '@adfunnel/user-activity';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { parseGatewayConfig } from '../config.js';
import { UserProfileService } from './user-profile.service.js';

const TRACKING_SECRET = 'profile-int-spec-secret-0123456789';
const T0 = Date.UTC(2026, 11, 1, 12);
const TOYS = topicIndex('toys');

describe(`${UserProfileService.name} on Redis`, () => {
  Logger.overrideLogger(['error']);
  const prefix = testRunId('profile_test');
  let redis: Redis;
  let writer: UserActivityStore;
  let sut: UserProfileService;
  const request = (userId: string): AdRequest => ({
    userId,
    surface: 'home_feed',
    country: 'FR',
    device: 'tablet',
    slots: 2,
  });

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    // What logging writes (apps/logging's ActivityRecorder folds each stored event the same way).
    writer = new UserActivityStore(redis, { prefix });
    sut = new UserProfileService(
      parseGatewayConfig({
        TRACKING_SECRET,
        REDIS_URL: TEST_REDIS_URL,
        USER_ACTIVITY_KEY_PREFIX: prefix,
        // A backstop for a slow test machine, not the serving default (50 ms).
        USER_ACTIVITY_REDIS_TIMEOUT_MS: '2000',
      }),
    );
    await sut.onModuleInit();
  });

  afterAll(async () => {
    await sut?.onApplicationShutdown();
    redis?.disconnect();
    await deleteRedisKeys(prefix);
  });

  it('serves a user the funnel never saw as cold start, with the declared country and device', async () => {
    expect(await sut.userContext(request('never-seen'), T0)).toEqual({
      user: {
        userId: 'never-seen',
        country: 'FR',
        device: 'tablet',
        interests: new Array(16).fill(0),
        known: false,
      },
      activityUnavailable: false,
    });
  });

  it("sees a click logged after the user's last request within the cache TTL", async () => {
    const userId = 'clicker';
    expect((await sut.userContext(request(userId), T0)).user.known).toBe(false);
    await writer.record(userId, {
      type: 'impression',
      adId: 5,
      advertiserId: 2,
      categoryIndex: TOYS,
      at: T0,
    });
    await writer.record(userId, {
      type: 'click',
      adId: 5,
      advertiserId: 2,
      categoryIndex: TOYS,
      at: T0 + 1000,
    });

    const { user, activityUnavailable } = await eventually(
      'the click in the user context',
      () => sut.userContext(request(userId), T0 + 2000),
      (lookup) => lookup.user.known,
      { timeoutMs: 3000 },
    );
    expect(activityUnavailable).toBe(false);
    expect(user.activity).toMatchObject({ recentAdIds: [5], recentAdvertiserIds: [2], updatedAt: T0 + 1000 });
    expect(user.interests.indexOf(Math.max(...user.interests))).toBe(TOYS);
    expect(user).toMatchObject({ country: 'FR', device: 'tablet' });
  });

  it('serves every user as cold start, saying so, while Redis does not answer', async () => {
    const down = new UserProfileService(
      parseGatewayConfig({
        TRACKING_SECRET,
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        USER_ACTIVITY_KEY_PREFIX: prefix,
      }),
    );
    await down.onModuleInit();
    try {
      const lookup = await down.userContext(request('clicker'), T0);
      expect(lookup.activityUnavailable).toBe(true);
      expect(lookup.user).toMatchObject({
        userId: 'clicker',
        known: false,
        interests: new Array(16).fill(0),
      });
      expect(lookup.user).not.toHaveProperty('activity');
    } finally {
      await down.onApplicationShutdown();
    }
  });
});
