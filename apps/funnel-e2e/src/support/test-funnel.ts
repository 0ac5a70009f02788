import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FunnelApp, FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import {
  TEST_NATS_URL,
  TEST_POSTGRES_URL,
  TEST_REDIS_URL,
  deleteRedisKeys,
  eventually,
  postgresTestSchema,
  testRunId,
} from '@adfunnel/testing';
import pg from 'pg';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/**
 * A whole funnel for one test run: its own PostgreSQL schema, its own bull key prefix and its own
 * ports, so it never touches a funnel a developer is running, and leaves nothing behind.
 */
export class TestFunnel {
  readonly runId: string;
  readonly schema: ReturnType<typeof postgresTestSchema>;
  readonly databaseUrl: string;
  readonly db = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  readonly launcher: FunnelLauncher;
  readonly output: string[] = [];

  /**
   * `colocate`: groups of services that share a process (FunnelLauncher); default one each.
   * `runPrefix` starts the run id (namespace, schema, key prefixes); `env` is added to every service's.
   */
  constructor({
    basePort = 4100,
    colocate,
    runPrefix = 'e2e',
    env = {},
  }: {
    basePort?: number;
    colocate?: readonly (readonly FunnelApp[])[];
    runPrefix?: string;
    env?: Record<string, string>;
  } = {}) {
    this.runId = testRunId(runPrefix);
    this.schema = postgresTestSchema(this.runId);
    this.databaseUrl = this.schema.databaseUrl;
    this.launcher = new FunnelLauncher({
      root: ROOT,
      ...(colocate === undefined ? {} : { colocate }),
      env: {
        ...isolatedFunnelEnv({ runId: this.runId, basePort, deadlineMs: 2000, stageTimeoutMs: 1000 }),
        DATABASE_URL: this.databaseUrl,
        REDIS_URL: TEST_REDIS_URL,
        NATS_URL: TEST_NATS_URL,
        ...env,
      },
      onLine: (app, line) => {
        this.output.push(`${app}: ${line}`);
        if (this.output.length > 400) this.output.shift();
      },
      readyTimeoutMs: 90_000,
    });
  }

  get gatewayUrl(): string {
    return this.launcher.url('gateway');
  }

  async start(): Promise<void> {
    this.catalog(['migrate']);
    this.catalog(['seed', '--advertisers', '60', '--ads', '3000', '--users', '2000']);
    await this.db.connect();
    await this.db.query(`SET search_path TO ${this.runId}`);
    await this.launcher.start();
  }

  async stop(): Promise<void> {
    await this.launcher.stopAll();
    await this.db.end().catch(() => undefined);
    await this.schema.drop().catch(() => undefined);
    await deleteRedisKeys(this.runId);
  }

  async requestAds(
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.gatewayUrl}/v1/ads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Polls a query until `done` accepts its rows (the logging workers are asynchronous). */
  eventually<T extends pg.QueryResultRow>(
    sql: string,
    params: unknown[],
    done: (rows: T[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<T[]> {
    return eventually(sql, async () => (await this.db.query<T>(sql, params)).rows, done, {
      timeoutMs,
      intervalMs: 200,
    });
  }

  private catalog(args: string[]): void {
    runCatalogCli(this.databaseUrl, args);
  }
}

/** `npm run catalog -- <args>` against a test's database, as the funnel's set-up runs it. */
export function runCatalogCli(databaseUrl: string, args: readonly string[]): void {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'tools', 'catalog', 'dist', 'catalog-cli.js'), ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(`catalog ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  }
}
