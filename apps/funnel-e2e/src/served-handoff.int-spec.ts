import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdResponse } from '@adfunnel/contracts';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import {
  type ScratchRedis,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  connectTestBus,
  deleteRedisKeys,
  eventually,
  postgresTestSchema,
  testRunId,
} from '@adfunnel/testing';
import pg from 'pg';
import { z } from 'zod';
import { startAofRedis } from './support/aof-redis.js';
import { freeBasePort } from './support/free-ports.js';
import { ROOT, runCatalogCli } from './support/test-funnel.js';

/**
 * The served record's hand-off from the gateway to logging, through a Redis of the test's own that
 * the gateway and logging share (retrieval, ranking and the auction keep this machine's Redis, so
 * killing this one leaves the auction's budget state alone): records survive logging being down, a
 * reused request id is refused, and without Redis the gateway answers without ads and says why.
 */
describe('the served-record hand-off through Redis', () => {
  const runId = testRunId('handoff');
  const schema = postgresTestSchema(runId);
  const db = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*/, '') });
  const output: string[] = [];
  let redis: ScratchRedis;
  let stages: FunnelLauncher;
  let edge: FunnelLauncher;

  const requestAds = async (userId: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${edge.url('gateway')}/v1/ads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ userId, surface: 'home_feed', country: 'US', device: 'mobile', slots: 3 }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const servedRows = async (requestIds: string[]) =>
    (
      await db.query<{ request_id: string; slot: number; ad_id: number }>(
        `SELECT request_id, slot, ad_id FROM served_ads WHERE request_id = ANY($1) ORDER BY request_id, slot`,
        [requestIds],
      )
    ).rows.map((row) => ({ requestId: row.request_id, slot: Number(row.slot), adId: Number(row.ad_id) }));

  beforeAll(async () => {
    redis = await startAofRedis();
    const basePort = await freeBasePort();
    const env = {
      ...isolatedFunnelEnv({ runId, basePort, deadlineMs: 2000, stageTimeoutMs: 1000 }),
      DATABASE_URL: schema.databaseUrl,
      NATS_URL: TEST_NATS_URL,
    };
    const onLine = (app: string, line: string) => {
      output.push(`${app}: ${line}`);
      if (output.length > 300) output.shift();
    };
    runCatalogCli(schema.databaseUrl, ['migrate']);
    runCatalogCli(schema.databaseUrl, ['seed', '--advertisers', '30', '--ads', '600', '--users', '200']);
    await db.connect();
    await db.query(`SET search_path TO ${runId}`);
    stages = new FunnelLauncher({
      root: ROOT,
      env: { ...env, REDIS_URL: TEST_REDIS_URL },
      apps: ['retrieval', 'ranking', 'auction'],
      onLine,
      readyTimeoutMs: 90_000,
    });
    edge = new FunnelLauncher({
      root: ROOT,
      env: { ...env, REDIS_URL: redis.url, SERVED_RECORD_TIMEOUT_MS: '200' },
      apps: ['logging', 'gateway'],
      onLine,
      readyTimeoutMs: 90_000,
    });
    try {
      await stages.start();
      await edge.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${output.join('\n')}`, {
        cause: err,
      });
    }
  }, 240_000);

  afterAll(async () => {
    await edge?.stopAll();
    await stages?.stopAll();
    await redis?.stop();
    await db.end().catch(() => undefined);
    await schema.drop().catch(() => undefined);
    await deleteRedisKeys(runId);
  }, 60_000);

  it('refuses a reused x-request-id with 409 and keeps the first request’s rows', async () => {
    const requestId = `${runId}-reused`;
    const first = await requestAds('u00003', { 'x-request-id': requestId });
    const firstAds = (first.body as unknown as AdResponse).ads;
    expect(first.status).toBe(200);
    expect(firstAds.length).toBeGreaterThan(0);

    const second = await requestAds('u00004', { 'x-request-id': requestId });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      code: 'conflict',
      reason: 'duplicate_request_id',
      message: expect.stringContaining(`"${requestId}"`),
    });

    const rows = await eventually(
      'the first request’s served rows',
      () => servedRows([requestId]),
      (found) => found.length === firstAds.length,
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(rows.map((r) => [r.slot, r.adId])).toEqual(firstAds.map((ad) => [ad.slot, ad.adId]));
  });

  it('takes no served record from the bus', async () => {
    const bus = await connectTestBus(runId);
    try {
      const retired = { pattern: 'adfunnel.logging.served.v2', request: z.unknown(), response: z.unknown() };
      await expect(bus.call(retired, { records: [] }, { timeoutMs: 1000 })).rejects.toThrow();
    } finally {
      await bus.onApplicationShutdown();
    }
  });

  it('keeps every served record while logging is down and stores them once it is back', async () => {
    await edge.kill('logging');
    const answered: { requestId: string; ads: AdResponse['ads'] }[] = [];
    for (let i = 0; i < 20; i++) {
      const requestId = `${runId}-down-${i}`;
      const { status, body } = await requestAds(`u${String(10 + i).padStart(5, '0')}`, {
        'x-request-id': requestId,
      });
      const answer = body as unknown as AdResponse;
      expect(status).toBe(200);
      expect(answer.degraded).toEqual([]);
      answered.push({ requestId, ads: answer.ads });
    }
    const expected = answered.flatMap(({ requestId, ads }) =>
      ads.map((ad) => ({ requestId, slot: ad.slot, adId: ad.adId })),
    );
    expect(expected.length).toBeGreaterThan(20);
    expect(await servedRows(answered.map((a) => a.requestId))).toEqual([]);

    await edge.startApp('logging');
    const rows = await eventually(
      'every served row once logging is back',
      () => servedRows(answered.map((a) => a.requestId)),
      (found) => found.length >= expected.length,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const byKey = (r: { requestId: string; slot: number }) => `${r.requestId}:${r.slot}`;
    expect(rows.sort((a, b) => byKey(a).localeCompare(byKey(b)))).toEqual(
      expected.sort((a, b) => byKey(a).localeCompare(byKey(b))),
    );
  }, 120_000);

  it('answers without ads, saying served_record_unavailable, while Redis is down, and serves again once it is back', async () => {
    await redis.crash();
    const { status, body } = await requestAds('u00042');
    const answer = body as unknown as AdResponse;
    expect(status).toBe(200);
    expect(answer.ads).toEqual([]);
    expect(answer.degraded).toContain('served_record_unavailable');
    const health = await fetch(`${edge.url('gateway')}/health`);
    expect(health.status).toBe(503);
    expect(JSON.stringify(await health.json())).toContain('redis');

    await redis.start();
    const recovered = await eventually(
      'ads once Redis is back',
      async () => (await requestAds('u00042')).body as unknown as AdResponse,
      (a) => a.ads.length > 0,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(recovered.degraded).toEqual([]);
  }, 90_000);
});
