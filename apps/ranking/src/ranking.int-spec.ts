import { featureSpecFingerprint } from '@adfunnel/features';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDataSource, runCatalogMigrations, seedCatalog } from '@adfunnel/catalog';
import { Rpc, ScoreResponseSchema, type ScoreRequest, type ScoreResponse } from '@adfunnel/contracts';
import { parseConfig, startService } from '@adfunnel/platform';
import { type MarketplaceSpec, userAt } from '@adfunnel/simulator';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { RankingConfigSchema } from './config.js';
import { RankingModule } from './ranking.module.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MODELS_DIR = path.join(REPO, 'models');
const SPEC: MarketplaceSpec = { seed: 9, advertisers: 20, campaignsPerAdvertiser: 2, ads: 400, users: 20 };

function requestFactory(overrides: Partial<ScoreRequest> = {}): ScoreRequest {
  const user = userAt(SPEC, 0);
  return {
    requestId: `req-${randomUUID()}`,
    deadlineAt: Date.now() + 5_000,
    user: {
      userId: user.id,
      country: user.country,
      device: user.device,
      interests: Array.from(user.interests),
      known: true,
    },
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
      env: { PATH: process.env['PATH'] ?? '', ...env },
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
  let dir: string;
  let sqlitePath: string;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let bus: ClientProxy;
  const score = (request: unknown) =>
    firstValueFrom(bus.send<ScoreResponse>(Rpc.rankingScore.pattern, request));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'adfunnel-ranking-'));
    sqlitePath = path.join(dir, 'catalog.sqlite');
    const setup = await createDataSource({ sqlitePath });
    try {
      await runCatalogMigrations(setup);
      await seedCatalog(setup, SPEC);
    } finally {
      await setup.destroy();
    }
    const config = parseConfig(RankingConfigSchema, {
      SQLITE_PATH: sqlitePath,
      NATS_URL,
      MODELS_DIR,
      CATALOG_REFRESH_MS: '0',
      LOG_LEVEL: 'warn',
    });
    app = await startService({
      name: 'ranking-test',
      module: RankingModule.forRoot(config),
      port: 0,
      host: '127.0.0.1',
      natsUrl: NATS_URL,
      // Its own queue group, so a ranking service running on this machine does not take the test's requests.
      queueGroup: `adfunnel-ranking-test-${randomUUID()}`,
      logLevel: 'warn',
    });
    baseUrl = await app.getUrl();
    bus = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: NATS_URL } });
    await bus.connect();
  });

  afterAll(async () => {
    await bus?.close();
    await app?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('scores candidates over the bus with the committed model', async () => {
    const response = await score(requestFactory());

    expect(ScoreResponseSchema.parse(response)).toEqual(response);
    const current = (await readFile(path.join(MODELS_DIR, 'ranking', 'current'), 'utf8')).trim();
    expect(response.modelVersion).toBe(current);
    expect(response.pCtr).toHaveLength(200);
    expect(response.featureSpec).toBe(featureSpecFingerprint());
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
    const shown = await fetch(`${baseUrl}/admin/model`);
    expect(await shown.json()).toMatchObject({ name: 'ranking', version: current, retiring: 0 });

    const reloaded = await fetch(`${baseUrl}/admin/model/reload`, { method: 'POST' });
    expect(reloaded.status).toBe(200);
    expect(await reloaded.json()).toMatchObject({ outcome: 'unchanged', version: current });
  });

  describe('as a process', () => {
    beforeAll(() => {
      execFileSync(
        process.execPath,
        [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-b', 'apps/ranking/tsconfig.json'],
        {
          cwd: REPO,
        },
      );
    });

    it('refuses to start, exit 1, when the model was trained on another feature spec', async () => {
      const models = path.join(dir, 'models-stale');
      await cp(path.join(MODELS_DIR, 'ranking'), path.join(models, 'ranking'), { recursive: true });
      const version = (await readFile(path.join(models, 'ranking', 'current'), 'utf8')).trim();
      const manifestPath = path.join(models, 'ranking', version, 'manifest.json');
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
        featureSpec: { fingerprint: string };
      };
      manifest.featureSpec.fingerprint = '0123456789abcdef';
      await writeFile(manifestPath, JSON.stringify(manifest));

      const { code, output } = await runBuiltService({
        MODELS_DIR: models,
        SQLITE_PATH: sqlitePath,
        RANKING_PORT: '39102',
        NATS_URL,
        CATALOG_REFRESH_MS: '0',
      });

      expect(code).toBe(1);
      expect(output).toContain('fp=0123456789abcdef');
      expect(output).toContain('retrain with npm run train');
    });

    it('drains and exits 0 on SIGTERM while scoring', async () => {
      const inFlight: Promise<unknown>[] = [];
      const { code, signal, output } = await runBuiltService(
        { MODELS_DIR, SQLITE_PATH: sqlitePath, RANKING_PORT: '39102', NATS_URL, CATALOG_REFRESH_MS: '0' },
        (stop) => {
          const adIds = Array.from({ length: 400 }, (_, i) => i + 1);
          for (let i = 0; i < 40; i++)
            inFlight.push(score(requestFactory({ adIds })).catch((e: unknown) => e));
          setTimeout(stop, 20);
        },
      );
      await Promise.all(inFlight);

      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(output).not.toMatch(/Aborted|terminate called/);
    });

    it('refuses to start, exit 1, when there is no model', async () => {
      const { code, output } = await runBuiltService({
        MODELS_DIR: path.join(dir, 'no-models'),
        SQLITE_PATH: sqlitePath,
        RANKING_PORT: '39102',
        NATS_URL,
        CATALOG_REFRESH_MS: '0',
      });

      expect(code).toBe(1);
      expect(output).toMatch(/no current version for model "ranking"/);
    });
  });
});
