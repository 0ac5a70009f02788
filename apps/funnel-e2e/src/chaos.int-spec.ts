import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FUNNEL_APPS, type FunnelApp, FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import { type ScratchRedis, TEST_NATS_URL, postgresTestSchema, testRunId } from '@adfunnel/testing';
import pg from 'pg';
import { startAofRedis } from './support/aof-redis.js';
import { ChaosLoad } from './support/chaos-load.js';
import { formatReconciliation, reconcile } from './support/chaos-reconciliation.js';
import { freeBasePort } from './support/free-ports.js';
import { ROOT, runCatalogCli } from './support/test-funnel.js';

const USERS = 500;
const RATE_PER_SECOND = 40;
/** Load before the fault and after the funnel is whole again. */
const BEFORE_MS = 1500;
const AFTER_MS = 1500;
const LOGGING_OUTAGE_MS = 30_000;
/**
 * Covers the logging outage and logging's start after it: a callback sent as it began is still being
 * retried when logging is back.
 */
const CALLBACK_RETRY_MS = LOGGING_OUTAGE_MS + 45_000;
const LOGGING_STALLED_MS = 2000;

interface Scenario {
  name: string;
  fault: () => Promise<void>;
}

/**
 * Faults under load through the five services as separate processes, on a Redis of the suite's own
 * with the append-only file production runs (a kill -9 of it is survivable only that way): kill -9
 * of each service and of Redis, a clean restart of Redis, a 30 s logging outage, and a SIGTERM
 * (graceful restart) of each service. After each, what clients were acknowledged — the ads of every 200 answer, every callback
 * answered 204 / 302 — is reconciled with the database: nothing lost, nothing stored twice, every
 * billable event charged once. Requests that got no answer while a service was down are not owed
 * anything and are counted apart.
 */
describe('the funnel through crashes and restarts under load', () => {
  const runId = testRunId('chaos');
  const schema = postgresTestSchema(runId);
  const db = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*/, '') });
  const output: string[] = [];
  let redis: ScratchRedis;
  let launcher: FunnelLauncher;

  const withOutput = (err: unknown) =>
    new Error(`${(err as Error).message}\n--- service output ---\n${output.slice(-80).join('\n')}`, {
      cause: err,
    });

  beforeAll(async () => {
    redis = await startAofRedis();
    const env = {
      ...isolatedFunnelEnv({ runId, basePort: await freeBasePort(), deadlineMs: 2000, stageTimeoutMs: 1000 }),
      DATABASE_URL: schema.databaseUrl,
      REDIS_URL: redis.url,
      NATS_URL: TEST_NATS_URL,
      LOGGING_STALLED_MS: String(LOGGING_STALLED_MS),
      // Every ad an answer can carry is served and billed in full: no cap, no pacing, no budget reached.
      FREQUENCY_CAP_DEFAULT: '0',
      PACING: 'off',
    };
    runCatalogCli(schema.databaseUrl, ['migrate']);
    runCatalogCli(schema.databaseUrl, [
      'seed',
      '--advertisers',
      '30',
      '--ads',
      '600',
      '--users',
      String(USERS),
    ]);
    await db.connect();
    await db.query(`SET search_path TO ${runId}`);
    await db.query(`UPDATE campaigns SET daily_budget = 1000000, frequency_cap = NULL`);
    launcher = new FunnelLauncher({
      root: ROOT,
      env,
      onLine: (app, line) => {
        output.push(`${app}: ${line}`);
        if (output.length > 400) output.shift();
      },
      readyTimeoutMs: 90_000,
    });
    try {
      await launcher.start();
    } catch (err) {
      throw withOutput(err);
    }
  }, 180_000);

  afterAll(async () => {
    await launcher?.stopAll();
    await redis?.stop();
    await db.end().catch(() => undefined);
    await schema.drop().catch(() => undefined);
  }, 60_000);

  // A scenario that failed half-way leaves the next one a whole funnel.
  beforeEach(async () => {
    for (const app of FUNNEL_APPS) if (!launcher.isRunning(app)) await launcher.startApp(app);
  }, 120_000);

  const restart = (app: FunnelApp, signal: 'SIGTERM' | 'SIGKILL'): Scenario => ({
    name: `${signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} of ${app}`,
    fault: () => launcher.restart(app, signal),
  });
  const scenarios: Scenario[] = [
    ...FUNNEL_APPS.map((app) => restart(app, 'SIGKILL')),
    {
      name: 'kill -9 of redis',
      fault: async () => {
        await redis.crash();
        await sleep(1000);
        await redis.start();
      },
    },
    { name: 'restart of redis (SHUTDOWN)', fault: () => redis.restart() },
    {
      name: `logging outage of ${LOGGING_OUTAGE_MS / 1000} s`,
      fault: async () => {
        await launcher.kill('logging');
        await sleep(LOGGING_OUTAGE_MS);
        await launcher.startApp('logging');
      },
    },
    ...FUNNEL_APPS.map((app) => restart(app, 'SIGTERM')),
  ];

  it.each(scenarios.map((scenario, i) => [scenario.name, i, scenario] as const))(
    'loses and duplicates nothing acknowledged through a %s',
    async (name, i, scenario) => {
      const prefix = `${runId}-${i}`;
      const load = new ChaosLoad({
        gatewayUrl: launcher.url('gateway'),
        requestIdPrefix: prefix,
        ratePerSecond: RATE_PER_SECOND,
        maxInFlight: 32,
        users: USERS,
        callbackRetryMs: CALLBACK_RETRY_MS,
      });
      load.start();
      await sleep(BEFORE_MS);
      const faultStarted = performance.now();
      try {
        await scenario.fault();
      } catch (err) {
        await load.stop();
        throw withOutput(err);
      }
      const recoveredMs = performance.now() - faultStarted;
      await sleep(AFTER_MS);
      await load.stop();
      const result = await reconcile(db, load, prefix, 30_000);
      process.stdout.write(
        formatReconciliation(`${name} (whole again after ${(recoveredMs / 1000).toFixed(1)} s)`, result),
      );

      expect(result.requests.acknowledged).toBeGreaterThan(0);
      expect(result.servedAds.acknowledged).toBeGreaterThan(0);
      expect(result.callbacks.unacknowledged).toBe(0);
      for (const tally of [result.servedAds, result.impressions, result.clicks, result.ledger]) {
        expect({ lost: tally.lost, duplicated: tally.duplicated }).toEqual({ lost: 0, duplicated: 0 });
      }
      expect(result.ledger.chargedMicros).toBe(result.ledger.costMicros);
      const { rows } = await db.query<{ ledger: string; days: string }>(
        `SELECT (SELECT COALESCE(SUM(charged_micros), 0) FROM ledger_entries) AS ledger,
                (SELECT COALESCE(SUM(charged_micros), 0) FROM campaign_day_spend) AS days`,
      );
      expect(Number(rows[0].days)).toBe(Number(rows[0].ledger));
    },
    150_000,
  );
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
