import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rpc } from '@adfunnel/contracts';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { RunSummary } from './run-stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';
const NATS_URL = 'nats://127.0.0.1:4222';
const SPEC_ARGS = ['--advertisers', '60', '--ads', '3000', '--users', '2000'];

/**
 * The traffic driver against the five real services: its own PostgreSQL schema, bull prefix and
 * ports (4200-4204), a small seeded catalog, and the CLI as a user runs it.
 */
describe('sim run against the real funnel', () => {
  const runId = `sim_${Date.now().toString(36)}_${process.pid}`;
  const databaseUrl = `${POSTGRES}?schema=${runId}`;
  const db = new pg.Client({ connectionString: POSTGRES });
  const output: string[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'adfunnel-sim-'));
  const apiKeysPath = join(workDir, 'api-keys.json');
  const launcher = new FunnelLauncher({
    root: ROOT,
    env: {
      ...isolatedFunnelEnv({ runId, basePort: 4200, deadlineMs: 3000, stageTimeoutMs: 1500 }),
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      NATS_URL,
    },
    onLine: (app, line) => {
      output.push(`${app}: ${line}`);
      if (output.length > 300) output.shift();
    },
    readyTimeoutMs: 90_000,
  });
  let summary: RunSummary;
  let stderr = '';

  beforeAll(async () => {
    catalog(['migrate']);
    catalog(['seed', ...SPEC_ARGS]);
    // The advertisers' keys, as an advertiser's integration holds them: conversions are posted with them.
    catalog(['api-keys', 'issue', '--advertiser', 'all', '--label', 'sim', '--out', apiKeysPath]);
    await db.connect();
    await db.query(`SET search_path TO ${runId}`);
    try {
      await launcher.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${output.join('\n')}`, {
        cause: err,
      });
    }
    const jsonPath = join(workDir, 'summary.json');
    // The loop runs the simulator the same way: on the NATS and in the bus namespace of the funnel.
    const result = await sim(launcher.busClientEnv(), [
      'run',
      '--gateway',
      launcher.url('gateway'),
      '--spec-advertisers',
      '60',
      '--spec-ads',
      '3000',
      '--spec-users',
      '2000',
      '--users',
      '150',
      '--day-requests',
      '6000',
      '--requests',
      '100',
      '--rate',
      '0',
      '--concurrency',
      '4',
      '--seed',
      '7',
      '--oracle-sample',
      '0.3',
      '--json',
      jsonPath,
      '--api-keys',
      apiKeysPath,
    ]);
    stderr = result.stderr;
    if (result.code !== 0) {
      throw new Error(
        `sim exited with ${result.code}:\n${result.stderr}\n--- service output ---\n${output.join('\n')}`,
      );
    }
    summary = JSON.parse(readFileSync(jsonPath, 'utf8')) as RunSummary;
  }, 240_000);

  afterAll(async () => {
    await launcher.stopAll();
    await db.query(`DROP SCHEMA IF EXISTS ${runId} CASCADE`).catch(() => undefined);
    await db.end().catch(() => undefined);
    const redis = new Redis(REDIS_URL);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${runId}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  it('serves every request, fires an impression per returned ad, and never clicks more than it saw', () => {
    expect(summary.requests).toBe(100);
    expect(summary.errors).toBe(0);
    expect(summary.fillRate).toBeGreaterThan(0.9);
    expect(summary.impressions).toBe(summary.adsReturned);
    expect(summary.trackingErrors).toMatchObject({ impression: 0, click: 0, conversion: 0, hide: 0 });
    expect(summary.clicks).toBeGreaterThan(0);
    expect(summary.clicks).toBeLessThanOrEqual(summary.examined);
    expect(summary.examined).toBeLessThanOrEqual(summary.impressions);
    expect(summary.conversions).toBeLessThanOrEqual(summary.clicks);
    // Every hide drawn went through its signed hideUrl and was accepted (hide errors 0 above).
    expect(summary.hides).toBeGreaterThan(0);
    // Posted with the advertisers' keys and the click ids of the landing URLs, and accepted (errors 0 above).
    expect(summary.conversions).toBeGreaterThan(0);
    expect(summary.degradedShare).toBeLessThanOrEqual(0.1);
    expect(summary.revenue.total).toBeGreaterThan(0);
    expect(summary.engagement.meanFatigueMultiplier).toBeGreaterThan(0);
    expect(summary.engagement.meanFatigueMultiplier).toBeLessThanOrEqual(1);
    expect(stderr).toMatch(/100%/);
  });

  it('leaves in the event store exactly the events it counted (hides too, unbilled), charged as it counted them', async () => {
    const expected = [
      ['click', summary.clicks],
      ['conversion', summary.conversions],
      ['hide', summary.hides],
      ['impression', summary.impressions],
    ].filter(([, n]) => n !== 0);
    const rows = await eventually(
      `SELECT type, COUNT(*) AS n, SUM(cost) AS cost FROM tracking_events WHERE request_id LIKE 'sim-%' GROUP BY type ORDER BY type`,
      (found) => JSON.stringify(found.map((r) => [r.type, Number(r.n)])) === JSON.stringify(expected),
    );
    expect(rows.map((r) => [r.type, Number(r.n)])).toEqual(expected);
    const charged = rows.reduce((sum, r) => sum + Number(r.cost), 0);
    expect(charged).toBeCloseTo(summary.revenue.total, 6);
  });

  it('measures retrieval, ranking and the allocation against the oracle', () => {
    const o = summary.oracle!;
    expect(o.probes.retrieval.failed).toBe(0);
    expect(o.probes.ranking.failed).toBe(0);
    expect(o.missing).toEqual({});
    expect(o.warnings).toEqual([]);
    expect(o.sampledRequests).toBeGreaterThan(10);
    for (const r of [o.retrieval!.recall, o.retrieval!.recallAt10, o.retrieval!.recallByClick]) {
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThanOrEqual(1);
    }
    expect(o.retrieval!.k).toBe(200);
    const ranking = o.ranking!;
    const figures = [
      ranking.logloss,
      ranking.bayesLogloss,
      ranking.expectedLogloss,
      ranking.expectedBayesLogloss,
      ranking.auc,
      ranking.bayesAuc,
      ranking.calibration,
      o.welfare!.efficiency,
      o.welfare!.efficiencyGivenRetrieved,
    ];
    for (const figure of figures) expect(Number.isFinite(figure)).toBe(true);
    expect(stderr).not.toMatch(/WARNING/);
    expect(ranking.rows).toBeGreaterThan(1000);
    expect(ranking.expectedLogloss).toBeGreaterThanOrEqual(ranking.expectedBayesLogloss);
    expect(ranking.auc).toBeGreaterThan(0.5);
    expect(ranking.auc).toBeLessThanOrEqual(1);
    const w = o.welfare!;
    expect(w.chosen).toBeGreaterThan(0);
    expect(w.oracleRetrieved).toBeLessThanOrEqual(w.oracleEligible + 1e-9);
    expect(w.chosen).toBeLessThanOrEqual(w.oracleEligible + 1e-9);
    expect(w.efficiency).toBeGreaterThan(0);
  });

  it("says why every oracle figure is missing when it asks outside the funnel's bus namespace", async () => {
    const jsonPath = join(workDir, 'outside.json');
    const outside = await sim({ NATS_URL, BUS_NAMESPACE: `${runId}_elsewhere` }, [
      'run',
      '--gateway',
      launcher.url('gateway'),
      '--spec-advertisers',
      '60',
      '--spec-ads',
      '3000',
      '--spec-users',
      '2000',
      '--users',
      '150',
      '--requests',
      '30',
      '--rate',
      '0',
      '--seed',
      '7',
      '--oracle-sample',
      '0.5',
      '--json',
      jsonPath,
      '--api-keys',
      apiKeysPath,
    ]);
    expect(outside.code).toBe(0);
    const o = (JSON.parse(readFileSync(jsonPath, 'utf8')) as RunSummary).oracle!;
    expect([o.retrieval, o.ranking, o.welfare]).toEqual([null, null, null]);
    expect(o.probes.retrieval.asked).toBeGreaterThan(0);
    const reason = o.missing.ranking!;
    expect(reason).toContain(
      `retrieval did not answer on subject ${runId}_elsewhere.${Rpc.retrievalCandidates.pattern} on ${NATS_URL}`,
    );
    expect(reason).toContain(`${o.probes.retrieval.asked} of ${o.probes.retrieval.asked} probes failed`);
    expect(outside.stdout).toContain(`n/a: ${reason}`);
    expect(outside.stderr).toContain(
      `WARNING: oracle figures missing (retrieval, ranking, auc, welfare, efficiency): ${reason}`,
    );
  }, 60_000);

  function catalog(args: string[]): void {
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'tools', 'catalog', 'dist', 'catalog-cli.js'), ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl },
        encoding: 'utf8',
      },
    );
    if (result.status !== 0)
      throw new Error(`catalog ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  }

  function sim(
    env: Record<string, string>,
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'tools', 'sim', 'dist', 'sim-cli.js'), ...args], {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', ...env },
      });
      let stdout = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('exit', (code) => resolvePromise({ code, stdout, stderr: err }));
    });
  }

  async function eventually(
    sql: string,
    done: (rows: { type: string; n: string; cost: string }[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<{ type: string; n: string; cost: string }[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await db.query<{ type: string; n: string; cost: string }>(sql);
      if (done(rows) || Date.now() > deadline) return rows;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
});
