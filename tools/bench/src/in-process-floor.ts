import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CatalogAd, CatalogReader, type DatabaseConfig, createDataSource } from '@adfunnel/catalog';
import type { AdRequestInput, UserActivity, UserContext } from '@adfunnel/contracts';
import { FEATURE_SPEC } from '@adfunnel/features';
import {
  OnnxWorkerPool,
  type ResolvedModel,
  assertFeatureSpec,
  rankingOutputsOf,
  resolveCurrentModel,
} from '@adfunnel/models';
import { UserActivityStore, userContextOf } from '@adfunnel/user-activity';
import { Redis } from 'ioredis';
import { FloorPipeline, type FloorOptions } from './floor-pipeline.js';
import { type LatencySummary, summarize } from './latency-stats.js';

/**
 * Every ad of the catalog the funnel serves (all statuses), in id order. A SQLite file that does not
 * exist is refused rather than created empty.
 */
export async function loadCatalogAds(database: DatabaseConfig): Promise<CatalogAd[]> {
  if (database.databaseUrl === undefined && !existsSync(database.sqlitePath)) {
    throw new Error(`no SQLite file at ${resolve(database.sqlitePath)}`);
  }
  const ds = await createDataSource(database);
  try {
    return await new CatalogReader(ds).loadAds();
  } finally {
    await ds.destroy();
  }
}

export interface FloorSetupOptions extends FloorOptions {
  ads: readonly CatalogAd[];
  modelsDir: string;
  /** The model under modelsDir whose `current` names the version (the ranking service's RANKING_MODEL). */
  modelName: string;
}

/** The in-process floor, built once: the catalog's index and the served ranking model in one worker. */
export interface Floor {
  pipeline: FloorPipeline;
  model: ResolvedModel;
  close(): Promise<void>;
}

export async function openFloor(options: FloorSetupOptions): Promise<Floor> {
  const model = await resolveCurrentModel(resolve(options.modelsDir), options.modelName);
  assertFeatureSpec(model.manifest, FEATURE_SPEC);
  // One worker: the floor scores one request at a time, and its CPU counts every thread anyway.
  const pool = await OnnxWorkerPool.open({
    modelPath: model.modelPath,
    dim: model.manifest.featureSpec.dim,
    outputNames: rankingOutputsOf(model.manifest),
    workers: 1,
  });
  await pool.warmUp();
  const pipeline = FloorPipeline.build(options.ads, pool, options);
  return { pipeline, model, close: () => pool.close() };
}

export interface ActivitySource {
  redisUrl: string;
  /** USER_ACTIVITY_KEY_PREFIX of the funnel measured. */
  prefix: string;
}

/**
 * The user side of each request as the gateway builds it (libs/user-activity userContextOf over
 * the activity the funnel logged), read once before the floor is timed. When Redis cannot be read
 * every user is a cold-start one, and `note` says so.
 */
export async function userContexts(
  requests: readonly AdRequestInput[],
  source: ActivitySource,
  now = Date.now(),
): Promise<{ users: Map<string, UserContext>; known: number; note?: string }> {
  const redis = new Redis(source.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectionName: 'adfunnel-bench-floor',
  });
  let activity = new Map<string, UserActivity>();
  let note: string | undefined;
  try {
    await redis.connect();
    const store = new UserActivityStore(redis, { prefix: source.prefix });
    activity = await store.readMany([...new Set(requests.map((r) => r.userId))]);
  } catch (err) {
    note = `user activity not read from ${source.redisUrl} (${(err as Error).message}): every floor user is cold`;
  } finally {
    redis.disconnect();
  }
  const users = new Map<string, UserContext>();
  let known = 0;
  for (const r of requests) {
    if (users.has(r.userId)) continue;
    const user = userContextOf(r, activity.get(r.userId), now);
    if (user.known) known++;
    users.set(r.userId, user);
  }
  return { users, known, ...(note === undefined ? {} : { note }) };
}

export interface FloorResult {
  requests: number;
  /** process.cpuUsage() (user + system, every thread of the bench process) over the timed requests. */
  cpuMsPerRequest: number;
  /** Wall time of one request in the floor, ms. */
  latency: LatencySummary;
  /** Winners over slots asked, as the bench's fill. */
  fill: number;
  meanCandidates: number;
}

/**
 * Serves `warmup` requests untimed (JIT, caches), then every request of `requests` in turn, one at
 * a time, and divides the process's CPU time over them by their number.
 */
export async function measureFloor(
  floor: Floor,
  requests: readonly AdRequestInput[],
  users: ReadonlyMap<string, UserContext>,
  warmup: number,
): Promise<FloorResult> {
  const userOf = (r: AdRequestInput) => users.get(r.userId) ?? userContextOf(r, null, Date.now());
  for (let i = 0; i < warmup && requests.length > 0; i++) {
    const r = requests[i % requests.length];
    await floor.pipeline.serve(r, userOf(r));
  }
  const latencies: number[] = [];
  let winners = 0;
  let slots = 0;
  let candidates = 0;
  const cpu0 = process.cpuUsage();
  for (const r of requests) {
    const t0 = performance.now();
    const answer = await floor.pipeline.serve(r, userOf(r));
    latencies.push(performance.now() - t0);
    winners += answer.winners;
    candidates += answer.candidates;
    slots += r.slots ?? 3;
  }
  const cpu = process.cpuUsage(cpu0);
  const n = requests.length;
  return {
    requests: n,
    cpuMsPerRequest: n === 0 ? NaN : (cpu.user + cpu.system) / 1000 / n,
    latency: summarize(latencies),
    fill: slots === 0 ? 0 : winners / slots,
    meanCandidates: n === 0 ? 0 : candidates / n,
  };
}
