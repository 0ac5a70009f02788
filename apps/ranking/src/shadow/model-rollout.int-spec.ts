import { randomUUID } from 'node:crypto';
import { cp, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  JobNames,
  QueueGroups,
  Queues,
  Rpc,
  type ScoreRequest,
  type ScoreResponse,
  type ShadowScoreJob,
  ShadowScoreJobSchema,
  type ShadowScoreRecord,
} from '@adfunnel/contracts';
import { parseConfig } from '@adfunnel/platform';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import {
  type SeededCatalog,
  TEST_REDIS_URL,
  type TestStage,
  deleteRedisKeys,
  eventually,
  seededSqliteCatalog,
  startTestStage,
  testRunId,
  knownUserContext,
} from '@adfunnel/testing';
import Bull from 'bull';
import { RankingConfigSchema } from '../config.js';
import { RankingModule } from '../ranking.module.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const SPEC: MarketplaceSpec = { seed: 9, advertisers: 20, campaignsPerAdvertiser: 2, ads: 400, users: 20 };
const ADMIN_TOKEN = `admin-${randomUUID()}`;
const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };

function requestFactory(): ScoreRequest {
  return {
    requestId: `req-${randomUUID()}`,
    deadlineAt: Date.now() + 5_000,
    user: knownUserContext(SPEC, 0),
    surface: 'home_feed',
    adIds: Array.from({ length: 50 }, (_, i) => i + 1),
  };
}

describe('ranking model rollout (shadow, promote, rollback)', () => {
  const prefix = testRunId('ranking_shadow_test');
  let catalog: SeededCatalog;
  let stage: TestStage;
  let modelsDir: string;
  let live: string;
  let candidate: string;
  let shadowQueue: Bull.Queue<ShadowScoreJob>;
  const logged: ShadowScoreRecord[] = [];

  const admin = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${stage.url}/admin/model/${route}`, {
      method,
      ...(body === undefined
        ? { headers: asAdmin }
        : { headers: { ...asAdmin, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const score = (request: ScoreRequest): Promise<ScoreResponse> => stage.bus.call(Rpc.rankingScore, request);
  const loggedFor = async (requestId: string): Promise<ShadowScoreRecord> =>
    (await eventually(
      `the shadow record of ${requestId}`,
      () => Promise.resolve(logged.find((r) => r.requestId === requestId)),
      (record) => record !== undefined,
    ))!;

  beforeAll(async () => {
    catalog = await seededSqliteCatalog(SPEC);
    // Promote and rollback write the pointers: a copy, never the repository's models/.
    modelsDir = path.join(catalog.dir, 'models');
    await cp(path.join(REPO, 'models'), modelsDir, { recursive: true });
    live = (await readFile(path.join(modelsDir, 'ranking', 'current'), 'utf8')).trim();
    const versions = (await readdir(path.join(modelsDir, 'ranking'), { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    candidate = versions.find((v) => v !== live)!;

    shadowQueue = new Bull<ShadowScoreJob>(Queues.shadow, { prefix, redis: TEST_REDIS_URL });
    void shadowQueue.process(JobNames.persistShadow, (job) => {
      logged.push(...ShadowScoreJobSchema.parse(job.data).records);
      return Promise.resolve();
    });

    stage = await startTestStage({
      name: 'ranking',
      queueGroup: QueueGroups.ranking,
      module: (env) =>
        RankingModule.forRoot(
          parseConfig(RankingConfigSchema, {
            ...env,
            SQLITE_PATH: catalog.sqlitePath,
            MODELS_DIR: modelsDir,
            ADMIN_TOKEN,
            REDIS_URL: TEST_REDIS_URL,
            LOGGING_QUEUE_PREFIX: prefix,
            RANKING_WORKERS: '1',
            RANKING_MODEL_WATCH_MS: '0',
          }),
        ),
    });
  });

  afterAll(async () => {
    await stage?.close();
    await shadowQueue?.close();
    await deleteRedisKeys(prefix);
    await catalog?.remove();
  });

  it('has two committed versions to roll between', () => {
    expect(candidate).toBeDefined();
  });

  it('refuses every rollout endpoint without the admin token', async () => {
    for (const [method, route] of [
      ['GET', 'rollout'],
      ['GET', 'shadow'],
      ['POST', 'shadow'],
      ['DELETE', 'shadow'],
      ['POST', 'promote'],
      ['POST', 'rollback'],
    ] as const) {
      const res = await fetch(`${stage.url}/admin/model/${route}`, { method });
      expect({ route, method, status: res.status }).toEqual({ route, method, status: 401 });
      expect(await res.json()).toMatchObject({ code: 'unauthenticated' });
    }
  });

  it('refuses to shadow an unknown version, naming it', async () => {
    const res = await admin('POST', 'shadow', { version: '20991231-deadbeef' });

    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('unknown version ranking@20991231-deadbeef'),
    });
  });

  it('shadows a candidate: the answer is the live model`s, and both scores are logged side by side', async () => {
    const before = await score(requestFactory());

    const started = await admin('POST', 'shadow', { version: candidate, sample: 1 });
    expect(started).toMatchObject({ status: 200 });
    expect(started.body).toMatchObject({ active: true, version: candidate, liveVersion: live, sample: 1 });

    const request = requestFactory();
    const during = await score(request);
    expect(during.modelVersion).toBe(live);
    expect(during.pCtr).toEqual(before.pCtr);
    expect(during.pCvr).toEqual(before.pCvr);

    const record = await loggedFor(request.requestId);
    expect(record).toMatchObject({
      requestId: request.requestId,
      surface: 'home_feed',
      liveVersion: live,
      shadowVersion: candidate,
      adIds: request.adIds,
    });
    record.livePCtr.forEach((p, i) => expect(p).toBeCloseTo(during.pCtr[i], 6));
    expect(record.shadowPCtr).toHaveLength(request.adIds.length);
    expect(record.shadowPCtr).not.toEqual(record.livePCtr);

    const status = await admin('GET', 'shadow');
    expect(status.body).toMatchObject({
      counts: { requests: 1, scored: 1, droppedBusy: 0, droppedLiveBusy: 0, shadowFailed: 0 },
      log: { logged: 1, failed: 0, dropped: 0 },
    });
  });

  it('refuses to roll back before any promote: nothing to roll back to', async () => {
    const res = await admin('POST', 'rollback');

    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'conflict', reason: 'nothing_to_roll_back' });
  });

  it('promotes the shadow: it serves, the shadow stops, and the old version is kept as previous', async () => {
    const res = await admin('POST', 'promote', {});

    expect(res).toMatchObject({ status: 200 });
    expect(res.body).toMatchObject({
      action: 'promote',
      version: candidate,
      from: live,
      shadowStopped: true,
    });
    expect((await score(requestFactory())).modelVersion).toBe(candidate);
    expect((await admin('GET', 'rollout')).body).toMatchObject({
      current: candidate,
      previous: live,
      serving: candidate,
      shadow: { active: false },
    });
  });

  it('rolls back to the previous version by one call, then has nothing more to roll back to', async () => {
    const res = await admin('POST', 'rollback');

    expect(res).toMatchObject({ status: 200 });
    expect(res.body).toMatchObject({ action: 'rollback', version: live, from: candidate });
    expect((await score(requestFactory())).modelVersion).toBe(live);
    expect((await readFile(path.join(modelsDir, 'ranking', 'current'), 'utf8')).trim()).toBe(live);
    expect((await admin('POST', 'rollback')).body).toMatchObject({ reason: 'nothing_to_roll_back' });
  });

  it('refuses to promote the live version or a malformed body, saying what was wrong', async () => {
    expect((await admin('POST', 'promote', { version: live })).body).toMatchObject({
      code: 'conflict',
      reason: 'already_current',
    });
    const bad = await admin('POST', 'promote', { version: '../etc', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('version') });
  });
});
