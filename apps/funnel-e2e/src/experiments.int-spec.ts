import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdResponse } from '@adfunnel/contracts';
import { bucketOf } from '@adfunnel/experiments';
import { eventually } from '@adfunnel/testing';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { ROOT, TestFunnel } from './support/test-funnel.js';

/**
 * One layer, two arms of 40% each (half of what the 20% holdout leaves) that differ in mechanism and
 * utility weights; the auction's own mechanism (AUCTION_MECHANISM) is gsp, neither arm's.
 */
const EXPERIMENTS = {
  holdout: { salt: 'e2e-holdout', share: 0.2 },
  layers: [
    {
      name: 'auction',
      salt: 'e2e-auction',
      unit: 'user',
      experiments: [
        {
          name: 'pricing',
          arms: [
            { name: 'control', share: 0.5, overrides: { mechanism: 'vcg' } },
            {
              name: 'treatment',
              share: 0.5,
              overrides: { mechanism: 'first_price', utilityWeights: { hide: 2 } },
            },
          ],
        },
      ],
    },
  ],
};

/** The arms' buckets as the gateway lays them: [0, 5000) control, the rest treatment. */
function userIn(group: 'holdout' | 'control' | 'treatment'): string {
  for (let i = 1; ; i++) {
    const userId = `u${String(i).padStart(5, '0')}`;
    const held = bucketOf('e2e-holdout', userId) < 2000;
    const arm = bucketOf('e2e-auction', userId) < 5000 ? 'control' : 'treatment';
    if (group === 'holdout' ? held : !held && arm === group) return userId;
  }
}

interface ServedRow {
  request_id: string;
  experiment_arms: string | null;
  bid: number;
  price: number;
}

/**
 * The real funnel (its stages co-located, logging apart) with EXPERIMENTS_CONFIG: each user gets the
 * mechanism of the arm the hash puts them in, the trace and the served_ads rows say which arm, the
 * holdout gets the auction's own, and a file that does not validate is refused, at start and on reload.
 */
describe('experiments over the real funnel', () => {
  const receiver = new OtlpReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'adfunnel-experiments-'));
  const file = join(dir, 'experiments.json');
  writeFileSync(file, JSON.stringify(EXPERIMENTS, null, 2));
  let funnel: TestFunnel;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    funnel = new TestFunnel({
      basePort: 4600,
      runPrefix: 'adfh_exp',
      colocate: [['retrieval', 'ranking', 'auction', 'gateway']],
      env: {
        EXPERIMENTS_CONFIG: file,
        EXPERIMENTS_WATCH_MS: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        TRACING_SAMPLE_RATIO: '1',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    try {
      await funnel.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${funnel.output.join('\n')}`, {
        cause: err,
      });
    }
  }, 180_000);

  afterAll(async () => {
    await funnel?.stop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Serves `userId` until an answer has ads; its gateway span and its served_ads rows. */
  async function serve(
    userId: string,
  ): Promise<{ span: ReceivedSpan; rows: ServedRow[]; answer: AdResponse }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const requestId = `exp-${randomUUID()}`;
      const { status, body } = await funnel.requestAds(
        { userId, surface: 'home_feed', country: 'US', device: 'mobile', slots: 3 },
        { 'x-request-id': requestId },
      );
      expect(status).toBe(200);
      const answer = body as unknown as AdResponse;
      if (answer.ads.length === 0) continue;
      const spans = await eventually(
        `the gateway span of ${requestId}`,
        () => Promise.resolve(receiver.spans.slice()),
        (spans) =>
          spans.some(
            (s) =>
              s.attributes['adfunnel.request_id'] === requestId &&
              s.service === 'gateway' &&
              s.name === 'POST /v1/ads',
          ),
        { timeoutMs: 15_000 },
      );
      const span = spans.find(
        (s) =>
          s.attributes['adfunnel.request_id'] === requestId &&
          s.service === 'gateway' &&
          s.name === 'POST /v1/ads',
      )!;
      const rows = await funnel.eventually<ServedRow>(
        'SELECT request_id, experiment_arms, bid, price FROM served_ads WHERE request_id = $1',
        [requestId],
        (rows) => rows.length === answer.ads.length,
      );
      return { span, rows, answer };
    }
    throw new Error(`no ads for ${userId} in 10 requests`);
  }

  it("gives each user their arm's mechanism, says which in the trace, and labels the served rows", async () => {
    const control = await serve(userIn('control'));
    const treatment = await serve(userIn('treatment'));

    expect(control.span.attributes).toMatchObject({
      'adfunnel.experiment.arms': 'auction:pricing/control',
      'adfunnel.experiment.holdout': false,
      'adfunnel.auction.mechanism': 'vcg',
    });
    expect(treatment.span.attributes).toMatchObject({
      'adfunnel.experiment.arms': 'auction:pricing/treatment',
      'adfunnel.experiment.holdout': false,
      'adfunnel.auction.mechanism': 'first_price',
    });
    expect(control.rows.map((r) => r.experiment_arms)).toEqual(
      control.rows.map(() => 'auction:pricing/control'),
    );
    expect(treatment.rows.map((r) => r.experiment_arms)).toEqual(
      treatment.rows.map(() => 'auction:pricing/treatment'),
    );
    // First price: every winner pays its bid, what the answer's prices say too.
    for (const row of treatment.rows) expect(Number(row.price)).toBe(Number(row.bid));
    for (const row of control.rows) expect(Number(row.price)).toBeLessThanOrEqual(Number(row.bid));
    // No public field for the arms: the answer has the keys it has without experiments.
    expect(Object.keys(treatment.answer).sort()).toEqual([
      'ads',
      'degraded',
      'modelVersion',
      'personalized',
      'ranking',
      'requestId',
      'stages',
      'timingsMs',
    ]);
  }, 60_000);

  it("gives a held-out user no overrides: the auction's own mechanism, rows labelled holdout", async () => {
    const held = await serve(userIn('holdout'));
    expect(held.span.attributes).toMatchObject({
      'adfunnel.experiment.arms': 'holdout',
      'adfunnel.experiment.holdout': true,
      'adfunnel.auction.mechanism': 'gsp',
    });
    expect(held.rows.map((r) => r.experiment_arms)).toEqual(held.rows.map(() => 'holdout'));
  }, 60_000);

  it('shows the serving config, and keeps it when a reload does not validate, saying why', async () => {
    const admin = (
      path: string,
      init: RequestInit = {},
      token = funnel.launcher.operatorEnv()['ADMIN_TOKEN'],
    ) =>
      fetch(`${funnel.gatewayUrl}/admin/experiments${path}`, {
        ...init,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    expect((await admin('', {}, 'not-the-token-not-the-token')).status).toBe(401);

    const shown = await admin('');
    expect(shown.status).toBe(200);
    const view = (await shown.json()) as { hash: string };
    expect(view).toMatchObject({
      enabled: true,
      path: file,
      hash: expect.stringMatching(/^[0-9a-f]{16}$/),
      holdout: { share: 0.2 },
      layers: [{ name: 'auction', unit: 'user', experiments: [{ name: 'pricing' }] }],
    });

    const bad = structuredClone(EXPERIMENTS);
    bad.layers[0].experiments[0].arms[1].share = 0.7;
    writeFileSync(file, JSON.stringify(bad));
    const refused = await admin('/reload', { method: 'POST' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      code: 'invalid_request',
      reason: 'invalid_experiments_config',
      message: `not reloaded, still serving sha256 ${view.hash}: EXPERIMENTS_CONFIG: ${file}: layers[0].experiments[0].arms: shares sum to 1.2, more than 1`,
    });
    expect(await (await admin('')).json()).toMatchObject({ hash: view.hash });
    // Still assigning by the old file.
    expect((await serve(userIn('treatment'))).span.attributes['adfunnel.auction.mechanism']).toBe(
      'first_price',
    );

    const everyoneVcg = structuredClone(EXPERIMENTS);
    everyoneVcg.layers[0].experiments[0].arms[1].overrides = {
      mechanism: 'vcg',
      utilityWeights: { hide: 2 },
    };
    writeFileSync(file, JSON.stringify(everyoneVcg));
    const reloaded = await admin('/reload', { method: 'POST' });
    expect(reloaded.status).toBe(200);
    expect(await reloaded.json()).toMatchObject({ outcome: 'reloaded', previousHash: view.hash });
    expect((await serve(userIn('treatment'))).span.attributes['adfunnel.auction.mechanism']).toBe('vcg');
  }, 90_000);

  it('refuses to start a gateway whose EXPERIMENTS_CONFIG does not validate, naming the variable and each problem', () => {
    const bad = structuredClone(EXPERIMENTS);
    bad.layers[0].experiments[0].arms[1].share = 0.7;
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify(bad));
    const started = spawnSync(process.execPath, [join(ROOT, 'apps', 'gateway', 'dist', 'main.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        TRACKING_SECRET: 'experiments-e2e-secret-0123456789',
        EXPERIMENTS_CONFIG: badFile,
        GATEWAY_PORT: '4690',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(started.status).toBe(1);
    expect(started.stderr).toContain(
      `config error: EXPERIMENTS_CONFIG: ${badFile}: layers[0].experiments[0].arms: shares sum to 1.2, more than 1`,
    );
  });
});
