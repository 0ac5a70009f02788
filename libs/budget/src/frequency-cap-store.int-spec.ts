import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TEST_REDIS_URL, deleteRedisKeys, testRunId } from '@adfunnel/testing';
import { Redis } from 'ioredis';
import { type FrequencyCap, FrequencyCapStore } from './frequency-cap-store.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 12);

describe(FrequencyCapStore.name, () => {
  const prefix = testRunId('fcap');
  let redis: Redis;
  let sut: FrequencyCapStore;
  let users = 0;
  const nextUser = () => `u${++users}`;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    sut = new FrequencyCapStore(redis, prefix);
  });

  afterAll(async () => {
    await deleteRedisKeys(prefix);
    redis.disconnect();
  });

  const caps = new Map<number, FrequencyCap>([
    [1, { max: 2, windowHours: 1 }],
    [2, { max: 1, windowHours: 24 }],
  ]);
  const served = (...campaignIds: number[]) =>
    campaignIds.map((campaignId) => ({ campaignId, windowHours: caps.get(campaignId)?.windowHours ?? 24 }));

  it('caps a campaign once the user has been served it `max` times in the window', async () => {
    const user = nextUser();
    await sut.recordServed(user, served(1), NOW);
    expect(await sut.cappedCampaigns(user, caps, NOW + 1)).toEqual(new Set());
    await sut.recordServed(user, served(1, 2), NOW + 10);
    expect(await sut.cappedCampaigns(user, caps, NOW + 11)).toEqual(new Set([1, 2]));
  });

  it('opens a new window when the one started by the first serve has passed, per campaign', async () => {
    const user = nextUser();
    await sut.recordServed(user, served(1, 2), NOW);
    await sut.recordServed(user, served(1), NOW + HOUR / 2);
    expect(await sut.cappedCampaigns(user, caps, NOW + HOUR - 1)).toEqual(new Set([1, 2]));
    // Campaign 1's one-hour window ends; campaign 2's day-long window does not.
    expect(await sut.cappedCampaigns(user, caps, NOW + HOUR)).toEqual(new Set([2]));
    await sut.recordServed(user, served(1), NOW + HOUR);
    expect(await sut.cappedCampaigns(user, caps, NOW + HOUR + 1)).toEqual(new Set([2]));
    expect(await redis.hget(sut.keys.frequency(user), '1')).toBe('1');
  });

  it('keeps users apart and ignores campaigns without a cap', async () => {
    const [alice, bob] = [nextUser(), nextUser()];
    await sut.recordServed(alice, served(2, 3, 3, 3), NOW);
    expect(await sut.cappedCampaigns(alice, caps, NOW)).toEqual(new Set([2]));
    expect(await sut.cappedCampaigns(bob, caps, NOW)).toEqual(new Set());
    expect(await sut.cappedCampaigns(alice, new Map(), NOW)).toEqual(new Set());
  });

  it('lets the user state expire with its longest window', async () => {
    const user = nextUser();
    await sut.recordServed(user, served(1), NOW);
    const short = await redis.pttl(sut.keys.frequency(user));
    expect(short).toBeGreaterThan(HOUR - 5_000);
    expect(short).toBeLessThanOrEqual(HOUR);
    await sut.recordServed(user, served(2), NOW + 1);
    const long = await redis.pttl(sut.keys.frequency(user));
    expect(long).toBeGreaterThan(24 * HOUR - 5_000);
    // A shorter window later never shortens the key's life.
    await sut.recordServed(user, served(1), NOW + 2);
    expect(await redis.pttl(sut.keys.frequency(user))).toBeGreaterThan(24 * HOUR - 5_000);
  });

  it('keeps the user ad exposure beside the caps, halving every half-life', async () => {
    const user = nextUser();
    const halfLifeMs = HOUR;
    expect(await sut.exposure(user, NOW, halfLifeMs)).toBe(0);
    // three ads, no campaign capped: only the exposure moves
    await sut.recordServed(user, [], NOW, { ads: 3, halfLifeMs });
    expect(await sut.exposure(user, NOW, halfLifeMs)).toBeCloseTo(3, 6);
    expect(await sut.exposure(user, NOW + HOUR, halfLifeMs)).toBeCloseTo(1.5, 6);
    await sut.recordServed(user, served(1), NOW + HOUR, { ads: 1, halfLifeMs });
    expect(await sut.exposure(user, NOW + 3 * HOUR, halfLifeMs)).toBeCloseTo(2.5 / 4, 6);
    // a stamp ahead of the reader's clock is read as now
    expect(await sut.exposure(user, NOW, halfLifeMs)).toBeCloseTo(2.5, 6);
    expect(await sut.cappedCampaigns(user, caps, NOW + HOUR + 1)).toEqual(new Set());
    expect(await redis.pttl(sut.keys.frequency(user))).toBeGreaterThan(10 * HOUR - 5_000);
  });

  it('refuses a fractional count of ads', async () => {
    await expect(sut.recordServed(nextUser(), [], NOW, { ads: 1.5, halfLifeMs: HOUR })).rejects.toThrow(
      'exposure needs a whole number of ads >= 0 and a positive half-life, got 1.5 ads, 3600000 ms',
    );
  });
});
