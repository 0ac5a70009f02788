import { featureSpecFingerprint } from '@adfunnel/features';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueGroups, Rpc, ScoreResponseSchema, type ScoreRequest } from '@adfunnel/contracts';
import { type BusClient, parseConfig } from '@adfunnel/platform';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import {
  type SeededCatalog,
  TEST_NATS_URL,
  type TestStage,
  connectTestBus,
  metricValue,
  seededSqliteCatalog,
  startTestStage,
  testRunId,
  knownUserContext,
} from '@adfunnel/testing';
import { RankingConfigSchema } from './config.js';
import { RankingModule } from './ranking.module.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MODELS_DIR = path.join(REPO, 'models');
const SPEC: MarketplaceSpec = { seed: 9, advertisers: 20, campaignsPerAdvertiser: 2, ads: 400, users: 20 };
const ADMIN_TOKEN = `admin-${randomUUID()}`;
const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };

function requestFactory(overrides: Partial<ScoreRequest> = {}): ScoreRequest {
  return {
    requestId: `req-${randomUUID()}`,
    deadlineAt: Date.now() + 5_000,
    user: knownUserContext(SPEC, 0),
    surface: 'home_feed',
    adIds: Array.from({ length: 200 }, (_, i) => i + 1),
    ...overrides,
  };
}

/**
 * Runs the built service as a real process and collects what it says before it exits; `whenListening`
 * runs once it serves.
 */
function runBuiltService(
  env: Record<string, string>,
  whenListening?: (stop: () => void) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, 'apps/ranking/dist/main.js')], {
      cwd: REPO,
      env: { PATH: process.env['PATH'] ?? '', NATS_URL: TEST_NATS_URL, CATALOG_REFRESH_MS: '0', ...env },
    });
    let output = '';
    let listening = false;
    const collect = (d: Buffer): void => {
      output += d.toString();
      if (!listening && whenListening && /listening on http/.test(output)) {
        listening = true;
        whenListening(() => child.kill('SIGTERM'));
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, output });
    });
  });
}

describe(RankingModule.name, () => {
  let catalog: SeededCatalog;
  let stage: TestStage;
  let baseUrl: string;
  const score = (request: unknown, bus: BusClient = stage.bus) =>
    bus.call(Rpc.rankingScore, request as ScoreRequest);

  beforeAll(async () => {
    catalog = await seededSqliteCatalog(SPEC);
    stage = await startTestStage({
      name: 'ranking',
      queueGroup: QueueGroups.ranking,
      module: (env) =>
        RankingModule.forRoot(
          parseConfig(RankingConfigSchema, {
            ...env,
            SQLITE_PATH: catalog.sqlitePath,
            MODELS_DIR,
            ADMIN_TOKEN,
          }),
        ),
    });
    baseUrl = stage.url;
  });

  afterAll(async () => {
    await stage?.close();
    await catalog?.remove();
  });

  it('scores candidates over the bus with the committed model', async () => {
    const response = await score(requestFactory());

    expect(ScoreResponseSchema.parse(response)).toEqual(response);
    const current = (await readFile(path.join(MODELS_DIR, 'ranking', 'current'), 'utf8')).trim();
    expect(response.modelVersion).toBe(current);
    expect(response.pCtr).toHaveLength(200);
    // The committed model has a hide head: P(hide | examined) per candidate, a probability.
    expect(response.pHide).toHaveLength(200);
    expect(response.pHide!.every((p) => p > 0 && p < 1)).toBe(true);
    expect(response.featureSpec).toBe(featureSpecFingerprint());
  });

  it('shows on /metrics the model version it serves and the candidates it scored', async () => {
    const before = await (await fetch(`${baseUrl}/metrics`)).text();
    await score(requestFactory());
    const text = await (await fetch(`${baseUrl}/metrics`)).text();

    const current = (await readFile(path.join(MODELS_DIR, 'ranking', 'current'), 'utf8')).trim();
    expect(
      metricValue(text, 'adfunnel_model_info', { stage: 'ranking', role: 'live', version: current }),
    ).toBe(1);
    expect(metricValue(text, 'adfunnel_model_info', { role: 'shadow' })).toBeUndefined();
    const scored = (scrape: string) =>
      metricValue(scrape, 'adfunnel_ranking_scored_candidates_total', { surface: 'home_feed' }) ?? 0;
    expect(scored(text) - scored(before)).toBe(200);
    // No clicks logged in this test's database: no calibrator, no ratio.
    expect(metricValue(text, 'adfunnel_ranking_calibrators')).toBe(0);
    expect(metricValue(text, 'adfunnel_ranking_calibration_ratio')).toBeUndefined();
  });

  it('rejects a malformed request naming the bad field', async () => {
    await expect(score({ ...requestFactory(), adIds: [] })).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('adIds'),
    });
  });

  it('rejects an ad id the catalog does not have, naming it', async () => {
    await expect(score(requestFactory({ adIds: [1, 999_999] }))).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('999999'),
    });
  });

  it('reports the model, NATS and the database on /health', async () => {
    const res = await fetch(`${baseUrl}/health`);
    const body = (await res.json()) as { status: string; info: Record<string, Record<string, unknown>> };

    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info['model']).toMatchObject({ status: 'up', name: 'ranking', workersAlive: 2 });
    expect(body.info['nats']).toMatchObject({ status: 'up' });
    expect(body.info['database']).toMatchObject({ status: 'up' });
  });

  it('shows the served model and reloads it over HTTP, answering unchanged when current has not moved', async () => {
    const current = (await readFile(path.join(MODELS_DIR, 'ranking', 'current'), 'utf8')).trim();
    const shown = await fetch(`${baseUrl}/admin/model`, { headers: asAdmin });
    expect(await shown.json()).toMatchObject({ name: 'ranking', version: current, retiring: 0 });

    const reloaded = await fetch(`${baseUrl}/admin/model/reload`, { method: 'POST', headers: asAdmin });
    expect(reloaded.status).toBe(200);
    expect(await reloaded.json()).toMatchObject({ outcome: 'unchanged', version: current });
  });

  it('refuses the admin endpoints without ADMIN_TOKEN, saying what to send', async () => {
    const wrong = { authorization: `Bearer ${ADMIN_TOKEN}-not` };
    for (const [method, route] of [
      ['GET', '/admin/model'],
      ['POST', '/admin/model/reload'],
    ] as const) {
      const missing = await fetch(`${baseUrl}${route}`, { method });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
      expect(await missing.json()).toMatchObject({
        code: 'unauthenticated',
        message: 'no admin token: send the header "Authorization: Bearer <ADMIN_TOKEN>"',
      });

      const mismatched = await fetch(`${baseUrl}${route}`, { method, headers: wrong });
      expect(mismatched.status).toBe(401);
      expect(await mismatched.json()).toMatchObject({
        code: 'unauthenticated',
        message: "the admin token does not match this service's ADMIN_TOKEN",
      });
    }
  });

  describe('as a process', () => {
    // Its own bus namespace: the process neither joins the in-process stage's nor a running funnel's queue group.
    const namespace = testRunId('ranking_process_test');
    let processBus: BusClient;
    const processEnv = (env: Record<string, string>) => ({
      MODELS_DIR,
      SQLITE_PATH: catalog.sqlitePath,
      RANKING_PORT: '39102',
      BUS_NAMESPACE: namespace,
      ...env,
    });

    beforeAll(async () => {
      execFileSync(
        process.execPath,
        [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-b', 'apps/ranking/tsconfig.json'],
        {
          cwd: REPO,
        },
      );
      processBus = await connectTestBus(namespace);
    });

    afterAll(async () => {
      await processBus?.onApplicationShutdown();
    });

    it('refuses to start, exit 1, when the model was trained on another feature spec', async () => {
      const models = path.join(catalog.dir, 'models-stale');
      await cp(path.join(MODELS_DIR, 'ranking'), path.join(models, 'ranking'), { recursive: true });
      const version = (await readFile(path.join(models, 'ranking', 'current'), 'utf8')).trim();
      const manifestPath = path.join(models, 'ranking', version, 'manifest.json');
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
        featureSpec: { fingerprint: string };
      };
      manifest.featureSpec.fingerprint = '0123456789abcdef';
      await writeFile(manifestPath, JSON.stringify(manifest));

      const { code, output } = await runBuiltService(processEnv({ MODELS_DIR: models }));

      expect(code).toBe(1);
      expect(output).toContain('fp=0123456789abcdef');
      expect(output).toContain('retrain with npm run train');
    });

    it('drains and exits 0 on SIGTERM while scoring', async () => {
      const inFlight: Promise<unknown>[] = [];
      const { code, signal, output } = await runBuiltService(processEnv({}), (stop) => {
        const adIds = Array.from({ length: 400 }, (_, i) => i + 1);
        for (let i = 0; i < 40; i++)
          inFlight.push(score(requestFactory({ adIds }), processBus).catch((e: unknown) => e));
        setTimeout(stop, 20);
      });
      await Promise.all(inFlight);

      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(output).not.toMatch(/Aborted|terminate called/);
    });

    it('refuses to start, exit 1, when there is no model', async () => {
      const { code, output } = await runBuiltService(
        processEnv({ MODELS_DIR: path.join(catalog.dir, 'no-models') }),
      );

      expect(code).toBe(1);
      expect(output).toMatch(/no current version for model "ranking"/);
    });
  });
});
