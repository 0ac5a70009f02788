import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type AdResponse, Rpc } from '@adfunnel/contracts';
import { TEST_NATS_URL } from '@adfunnel/testing';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { TestFunnel } from './support/test-funnel.js';

/**
 * The funnel with retrieval, ranking, auction and the gateway in one process and logging in its
 * own: ads are served end to end, the stage calls never reach NATS, the stages still answer over
 * NATS for callers elsewhere, and restarting one co-located service restarts its process.
 */
describe('the funnel with its serving stages co-located in one process', () => {
  const funnel = new TestFunnel({
    basePort: 4150,
    colocate: [['retrieval', 'ranking', 'auction', 'gateway']],
  });
  let nats: NatsConnection;
  /** Every bus message of this funnel's namespace, as NATS saw it. */
  const subjects: string[] = [];

  beforeAll(async () => {
    try {
      await funnel.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${funnel.output.join('\n')}`, {
        cause: err,
      });
    }
    nats = await connect({ servers: TEST_NATS_URL });
    nats.subscribe(`${funnel.runId}.>`, {
      callback: (_err, msg) => {
        subjects.push(msg.subject);
      },
    });
    await nats.flush();
  }, 180_000);

  afterAll(async () => {
    await nats?.close();
    await funnel.stop();
  }, 60_000);

  const request = { userId: 'u00042', surface: 'home_feed', country: 'US', device: 'mobile', slots: 3 };

  it('runs four services in one process and logging in another', () => {
    const serving = funnel.launcher.pid('gateway');
    expect(serving).toEqual(expect.any(Number));
    for (const app of ['retrieval', 'ranking', 'auction'] as const) {
      expect(funnel.launcher.pid(app)).toBe(serving);
    }
    expect(funnel.launcher.pid('logging')).not.toBe(serving);
  });

  it('serves ranked, priced ads whose stage calls never cross NATS, and logs the served record', async () => {
    subjects.length = 0;
    const { status, body } = await funnel.requestAds(request, { 'x-request-id': 'colocated-1' });
    const answer = body as unknown as AdResponse;

    expect(status).toBe(200);
    expect(answer.stages).toEqual({ retrieval: 'ok', ranking: 'ok', auction: 'ok' });
    expect(answer.ranking).toBe('model');
    expect(answer.ads).toHaveLength(3);
    await nats.flush();
    expect(subjects).toEqual([]);

    const served = await funnel.eventually<{ ad_id: number }>(
      `SELECT ad_id FROM served_ads WHERE request_id = $1 ORDER BY slot`,
      ['colocated-1'],
      (rows) => rows.length === 3,
    );
    expect(served.map((r) => Number(r.ad_id))).toEqual(answer.ads.map((a) => a.adId));
  });

  it('still answers a stage request that comes over NATS, with the same validation', async () => {
    const pattern = Rpc.rankingScore.pattern;
    const packet = JSON.stringify({ pattern, data: { requestId: 'r' }, id: 'x-1' });
    const reply = await nats.request(`${funnel.runId}.${pattern}`, packet, { timeout: 5000 });
    const { err } = reply.json<{ err?: { code: string; message: string } }>();

    expect(err?.code).toBe('invalid_request');
    expect(err?.message).toMatch(/deadlineAt|user|surface|adIds/);
  });

  it('restarts the whole process when one co-located service is restarted, and serves again', async () => {
    const before = funnel.launcher.pid('ranking');

    await funnel.launcher.restart('ranking');

    expect(funnel.launcher.pid('ranking')).not.toBe(before);
    expect(funnel.launcher.pid('gateway')).toBe(funnel.launcher.pid('ranking'));
    const { status, body } = await funnel.requestAds(request);
    expect(status).toBe(200);
    expect((body as unknown as AdResponse).ranking).toBe('model');
  }, 120_000);
});
