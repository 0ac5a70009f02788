import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { AdRequest, ServedAd, ServedRecordJob } from '@adfunnel/contracts';
import { Metrics } from '@adfunnel/platform';
import {
  FakeCatalogSnapshots,
  type DelayingProxy,
  catalogAdFactory,
  catalogSnapshot,
  delayingProxy,
  deleteRedisKeys,
  eventually,
  metricValue,
  testRunId,
} from '@adfunnel/testing';
import { emptyUserActivity, userContextOf } from '@adfunnel/user-activity';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { parseGatewayConfig } from '../config.js';
import type { FunnelTrace } from './funnel-trace.js';
import { createServedQueue } from './served-queue.js';
import { ServedRecordWriter } from './served-record.writer.js';

/**
 * The served record's outcome against a real Redis: an answer and logging's rows agree however the
 * connection or the event loop lags (the unit spec covers the same paths on a fake).
 */
describe('ServedRecordWriter on Redis', () => {
  Logger.overrideLogger(false);
  const prefix = testRunId('served_outcome');
  const redis = new Redis('redis://127.0.0.1:6379');
  const ad = catalogAdFactory(7, { id: 1, advertiserId: 3, bid: 2 });
  const served = [{ slot: 0, adId: 7, campaignId: 1, advertiserId: 3 }] as ServedAd[];
  const request: AdRequest = {
    userId: 'u1',
    surface: 'home_feed',
    country: 'US',
    device: 'mobile',
    slots: 1,
  };
  const trace = (requestId: string): FunnelTrace => ({
    requestId,
    servedAt: Date.now(),
    user: userContextOf({ userId: 'u1', country: 'US', device: 'mobile' }, emptyUserActivity(), Date.now()),
    scores: null,
    auction: {
      mechanism: 'gsp',
      reservePerImpression: 0,
      considered: 1,
      eligible: 1,
      winners: [
        {
          slot: 0,
          adId: 7,
          campaignId: 1,
          advertiserId: 3,
          bidType: 'CPM',
          bid: 2,
          price: 1,
          valuePerImpression: 0.002,
          pCtr: 0.01,
          pCvr: 0.1,
        },
      ],
    },
  });
  let writer: ServedRecordWriter | undefined;
  let proxy: DelayingProxy | undefined;
  let metrics: Metrics;

  const start = async (redisUrl: string, env: Record<string, string>) => {
    const config = parseGatewayConfig({
      TRACKING_SECRET: 'test-secret-0123456789',
      REDIS_URL: redisUrl,
      LOGGING_QUEUE_PREFIX: prefix,
      ...env,
    });
    metrics = new Metrics({ service: 'gateway', defaultMetrics: false });
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', [ad])).asService();
    writer = new ServedRecordWriter(catalog, config, createServedQueue(config), metrics);
    await writer.onModuleInit();
    return writer;
  };
  /** The job's outcome in Redis, once its add has landed. */
  const landedOutcome = async (requestId: string) => {
    const ids = await eventually(
      'the job in Redis',
      () => redis.keys(`${prefix}:adfunnel-served:served:${requestId}:*`),
      (keys) => keys.length > 0,
    );
    const data = JSON.parse((await redis.hget(ids[0], 'data'))!) as ServedRecordJob;
    return redis.get(data.outcomeKey!);
  };
  const counted = async (outcome: string) =>
    metricValue(await metrics.scrape(), 'adfunnel_gateway_served_records_total', { outcome });

  afterEach(async () => {
    await writer?.onApplicationShutdown();
    await proxy?.close();
    writer = undefined;
    proxy = undefined;
  });

  afterAll(async () => {
    await deleteRedisKeys(prefix);
    redis.disconnect();
  });

  it('serves a record Redis confirms in time, its outcome served', async () => {
    const sut = await start('redis://127.0.0.1:6379', {});
    expect(await sut.write(request, trace('in-time'), served, [])).toBe(true);
    expect(await landedOutcome('in-time')).toBe('served');
    expect(await counted('recorded')).toBe(1);
  });

  it('withholds a record its backed-up connection delivers after SERVED_RECORD_TIMEOUT_MS: no ads, and the job that lands says so', async () => {
    // The queue's first connection (the add's) is backed up; the second (the withhold's) is not.
    proxy = await delayingProxy({ delayMs: 300, connections: 'first' });
    const sut = await start(proxy.url, { SERVED_RECORD_TIMEOUT_MS: '50', SERVED_RECORD_GIVE_UP_MS: '2000' });
    expect(await sut.write(request, trace('backed-up'), served, [])).toBe(false);
    // The add lands 300 ms late, after the withhold that went over the second connection.
    expect(await landedOutcome('backed-up')).toBe('withheld');
    expect(await counted('withheld')).toBe(1);
  });

  it('serves a record whose reply the busy event loop read after SERVED_RECORD_TIMEOUT_MS', async () => {
    const sut = await start('redis://127.0.0.1:6379', { SERVED_RECORD_TIMEOUT_MS: '50' });
    const result = sut.write(request, trace('busy-loop'), served, []);
    // The event loop is busy past the timeout: the timer and the add's reply are both due at once.
    const until = performance.now() + 150;
    while (performance.now() < until);
    expect(await result).toBe(true);
    expect(await landedOutcome('busy-loop')).toBe('served');
  });
});
