import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TEST_REDIS_URL, deleteRedisKeys, testRunId } from '@adfunnel/testing';
import { Redis } from 'ioredis';
import { AdCount, CampaignCount, TotalCount } from './delivery-counts.js';
import { DeliveryFlusher } from './delivery-flusher.js';
import { BUCKET_MS } from './delivery-keys.js';
import { DeliveryReader, windowEnding, windowSince } from './delivery-reader.js';
import { DeliveryTally } from './delivery-tally.js';

/** A minute boundary, so the test chooses which minute each flush lands in. */
const T0 = Math.floor(Date.now() / BUCKET_MS) * BUCKET_MS;

describe(`${DeliveryFlusher.name} and ${DeliveryReader.name} on Redis`, () => {
  const prefix = testRunId('delivery');
  let redis: Redis;
  let now = T0 + 1_000;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await deleteRedisKeys(prefix);
    redis.disconnect();
  });

  it('writes each interval into the minute it was counted in, and a window sums the minutes', async () => {
    const tally = new DeliveryTally();
    const sut = new DeliveryFlusher(tally, redis, {
      prefix,
      flushMs: 5_000,
      retentionMinutes: 60,
      now: () => now,
    });
    const reader = new DeliveryReader(redis, prefix);

    tally.totals[TotalCount.retrieval_requests] += 10;
    tally.campaign(42).counts[CampaignCount.eligible] += 10;
    tally.campaign(43).counts[CampaignCount.eligible] += 1;
    tally.ad(420, 42).counts[AdCount.retrieved] += 4;
    now = T0 + BUCKET_MS + 5; // the first minute's counts, flushed just after it ended
    expect(await sut.flush()).toBe(4);

    tally.totals[TotalCount.retrieval_requests] += 5;
    tally.campaign(42).counts[CampaignCount.eligible] += 5;
    tally.campaign(42).counts[CampaignCount.outbid] += 2;
    now = T0 + BUCKET_MS + 4_000;
    expect(await sut.flush()).toBe(3);
    expect(await sut.flush()).toBe(0);

    const both = await reader.campaign(42, windowEnding(now, '2m', 60));
    expect(both.totals.retrieval_requests).toBe(15);
    expect(both.campaign.eligible).toBe(15);
    expect(both.campaign.outbid).toBe(2);
    expect(both.ads.get(420)?.retrieved).toBe(4);

    const lastMinute = await reader.campaign(42, windowEnding(now, '1m', 60));
    expect(lastMinute.totals.retrieval_requests).toBe(5);
    expect(lastMinute.ads.size).toBe(0);

    // A campaign created at T0 + 45 s: a quarter of the first minute's 10 requests (2.5), all its
    // counts; campaign 42 was eligible in all 10, and a request estimate never falls below that.
    const sinceCreated = await reader.campaign(43, windowSince(now, 60, T0 + 45_000));
    expect(sinceCreated.totals.retrieval_requests).toBe(Math.round(10 / 4 + 5));
    expect(sinceCreated.campaign.eligible).toBe(1);
    const eligibleInAll = await reader.campaign(42, windowSince(now, 60, T0 + 45_000));
    expect(eligibleInAll.totals.retrieval_requests).toBe(10 + 5);
    expect(eligibleInAll.campaign.eligible).toBe(15);

    const ttl = await redis.ttl(`${prefix}:delivery:${T0 / BUCKET_MS}:c:42`);
    expect(ttl).toBeGreaterThan(60 * 60);
    expect(ttl).toBeLessThanOrEqual(60 * 60 + 120);
  });

  it('keeps the counts of a flush that failed and writes them with the next', async () => {
    // Nothing listens on port 1: every command fails at once.
    const down = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const tally = new DeliveryTally();
    const failing = new DeliveryFlusher(tally, down, {
      prefix,
      flushMs: 5_000,
      retentionMinutes: 60,
      now: () => now,
    });
    tally.campaign(43).counts[CampaignCount.won] += 3;
    await expect(failing.flush()).rejects.toThrow();
    down.disconnect();

    tally.campaign(43).counts[CampaignCount.won] += 1;
    const sut = new DeliveryFlusher(tally, redis, {
      prefix,
      flushMs: 5_000,
      retentionMinutes: 60,
      now: () => now,
    });
    expect(await sut.flush()).toBe(1);
    const counts = await new DeliveryReader(redis, prefix).campaign(43, windowEnding(now, '5m', 60));
    expect(counts.campaign.won).toBe(4);
  });

  it('refuses a window it cannot answer, saying what it takes', () => {
    expect(windowEnding(T0, '2h', 180)).toEqual({
      fromMinute: T0 / BUCKET_MS - 119,
      toMinute: T0 / BUCKET_MS,
    });
    expect(() => windowEnding(T0, 'soon', 60)).toThrow(
      'window must be minutes or hours, such as 15m, 90m or 2h; got "soon"',
    );
    expect(() => windowEnding(T0, '2h', 60)).toThrow('window must be from 1m to 60m');
    expect(() => windowEnding(T0, '0m', 60)).toThrow('window must be from 1m to 60m');
  });
});
