import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdfunnelError } from '@adfunnel/contracts';
import { TEST_REDIS_URL, deleteRedisKeys, freePort, testRunId } from '@adfunnel/testing';
import { Clock } from '@adfunnel/platform';
import { UserActivityStore } from '@adfunnel/user-activity';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { UserProfileService } from '../ads/user-profile.service.js';
import { parseGatewayConfig } from '../config.js';
import { MAX_EVENT_LEAD_MS, OrganicActivityService } from './organic-activity.service.js';

const TRACKING_SECRET = 'organic-int-spec-secret-0123456789';
const T0 = Date.UTC(2026, 11, 1, 12);

class FixedClock extends Clock {
  now(): number {
    return T0;
  }
}

describe(`${OrganicActivityService.name} on Redis`, () => {
  Logger.overrideLogger(['error']);
  const prefix = testRunId('organic_test');
  const config = (redisUrl: string) =>
    parseGatewayConfig({
      TRACKING_SECRET,
      REDIS_URL: redisUrl,
      USER_ACTIVITY_KEY_PREFIX: prefix,
      USER_ACTIVITY_REDIS_TIMEOUT_MS: '2000',
    });
  let redis: Redis;
  let profiles: UserProfileService;
  let sut: OrganicActivityService;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    profiles = new UserProfileService(config(TEST_REDIS_URL));
    await profiles.onModuleInit();
    sut = new OrganicActivityService(config(TEST_REDIS_URL), new FixedClock(), profiles);
    await sut.onModuleInit();
  });

  afterAll(async () => {
    await sut?.onApplicationShutdown();
    await profiles?.onApplicationShutdown();
    redis?.disconnect();
    await deleteRedisKeys(prefix);
  });

  it("folds a report at the funnel's clock, and the user's next request sees it though it was cached", async () => {
    const request = {
      userId: 'fresh',
      surface: 'home_feed',
      country: 'US',
      device: 'mobile',
      slots: 3,
    } as const;
    expect((await profiles.userContext(request, T0)).user.known).toBe(false);
    const answer = await sut.report({
      userId: 'fresh',
      events: [
        { type: 'engagement', id: 'p1', category: 'garden' },
        { type: 'search', id: 's1', query: 'Rose  Bush' },
      ],
    });
    expect(answer).toEqual({ folded: 2, duplicates: 0 });
    const state = await new UserActivityStore(redis, { prefix }).read('fresh');
    expect(state!.updatedAt).toBe(T0);
    expect(state!.recentQueries).toEqual(['rose bush']);
    const { user } = await profiles.userContext(request, T0);
    expect(user.known).toBe(true);
    expect(user.interests.indexOf(Math.max(...user.interests))).toBe(11);
  });

  it('refuses a report with an unknown category, an empty query or an event from the future, folding none of it', async () => {
    const refused = async (events: unknown[]) => {
      try {
        await sut.report({ userId: 'picky', events: events as never });
      } catch (error) {
        return error as AdfunnelError;
      }
      throw new Error('the report was accepted');
    };
    const ok = { type: 'engagement', id: 'fine', category: 'books' };
    expect(await refused([ok, { type: 'engagement', id: 'x', category: 'Books' }])).toMatchObject({
      code: 'invalid_request',
      reason: 'unknown_category',
      message: expect.stringContaining('events[1].category "Books" is not a category of the taxonomy'),
    });
    expect(await refused([{ type: 'search', id: 'q', query: ' \t ' }])).toMatchObject({
      code: 'invalid_request',
      reason: 'empty_query',
    });
    expect(await refused([{ ...ok, at: T0 + MAX_EVENT_LEAD_MS + 1 }])).toMatchObject({
      code: 'invalid_request',
      reason: 'event_in_future',
      message: expect.stringMatching(
        /^events\[0\]\.at 2026-12-01T12:05:00\.001Z is more than 5 minutes after/,
      ),
    });
    expect(await new UserActivityStore(redis, { prefix }).read('picky')).toBeNull();
  });

  it('answers unavailable, folding nothing, when Redis does not take the report', async () => {
    const down = new OrganicActivityService(
      config(`redis://127.0.0.1:${await freePort()}`),
      new FixedClock(),
      profiles,
    );
    await down.onModuleInit();
    try {
      await expect(
        down.report({ userId: 'nobody', events: [{ type: 'engagement', id: 'e', category: 'toys' }] }),
      ).rejects.toMatchObject({
        code: 'unavailable',
        message: expect.stringContaining('send the report again'),
      });
    } finally {
      await down.onApplicationShutdown();
    }
  });
});
