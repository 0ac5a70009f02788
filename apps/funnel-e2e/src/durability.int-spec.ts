import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServedAdClaims } from '@adfunnel/contracts';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import { TEST_NATS_URL, eventually, postgresTestSchema, testRunId } from '@adfunnel/testing';
import { trackingUrls } from '@adfunnel/tracking';
import pg from 'pg';
import { ROOT, runCatalogCli } from './support/test-funnel.js';

const EVENTS = 900;
const IN_FLIGHT = 12;

/** A Redis of the test's own, with the append-only file as production runs it (compose.yml). */
class AofRedis {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
      ],
      { stdio: 'ignore' },
    );
    await eventually(
      'redis to answer',
      () => Promise.resolve(this.ping()),
      (ok) => ok,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  }

  /** SHUTDOWN: Redis writes the append-only file out and exits, as a restart or an upgrade does. */
  async restart(): Promise<void> {
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown']);
    await new Promise((resolve) => this.child?.once('exit', resolve));
    await this.start();
  }

  stop(): void {
    this.child?.kill('SIGKILL');
  }

  private ping(): boolean {
    return (
      spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG'
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/**
 * The logging service under crashes: kill -9 of the service and a restart of its Redis while
 * impressions and clicks pour in. Every event acknowledged to a client (204 / 302) must end up in the
 * ledger exactly once: none lost, none charged twice, though clients replay some of them.
 */
describe('billing through a crash of logging and a restart of Redis', () => {
  const runId = testRunId('durability');
  const schema = postgresTestSchema(runId);
  const db = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*/, '') });
  let dir: string;
  let redis: AofRedis;
  let launcher: FunnelLauncher;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adfunnel-durability-'));
    redis = new AofRedis(await freePort(), dir);
    await redis.start();
    env = {
      ...isolatedFunnelEnv({ runId, basePort: 4300, deadlineMs: 2000, stageTimeoutMs: 1000 }),
      DATABASE_URL: schema.databaseUrl,
      REDIS_URL: redis.url,
      NATS_URL: TEST_NATS_URL,
    };
    runCatalogCli(schema.databaseUrl, ['migrate']);
    runCatalogCli(schema.databaseUrl, ['seed', '--advertisers', '20', '--ads', '400', '--users', '100']);
    await db.connect();
    await db.query(`SET search_path TO ${runId}`);
    launcher = new FunnelLauncher({ root: ROOT, env, apps: ['logging'], readyTimeoutMs: 60_000 });
    await launcher.start();
  }, 120_000);

  afterAll(async () => {
    await launcher?.stopAll();
    redis?.stop();
    await db.end().catch(() => undefined);
    await schema.drop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged event and charges none twice', async () => {
    const { rows: ads } = await db.query<{
      id: number;
      campaign_id: number;
      advertiser_id: number;
      bid_type: 'CPM' | 'CPC' | 'CPA';
      bid: number;
    }>(
      `SELECT a.id, a.campaign_id, a.advertiser_id, c.bid_type, c.bid FROM ads a JOIN campaigns c ON c.id = a.campaign_id
       WHERE c.bid_type IN ('CPM', 'CPC') AND c.daily_budget >= 50 ORDER BY a.id LIMIT 40`,
    );
    expect(ads.length).toBeGreaterThan(10);
    const now = Date.now();
    const urls = Array.from({ length: EVENTS }, (_, i) => {
      const ad = ads[i % ads.length];
      const claims: ServedAdClaims = {
        v: 1,
        r: `${runId}-${i}`,
        u: 'u00001',
        a: ad.id,
        c: ad.campaign_id,
        adv: ad.advertiser_id,
        s: 0,
        bt: ad.bid_type,
        p: ad.bid_type === 'CPM' ? 2 : 0.01,
        t: now,
        exp: now + 3_600_000,
      };
      const { impressionUrl, clickUrl } = trackingUrls({
        baseUrl: launcher.url('logging'),
        claims,
        secret: env['TRACKING_SECRET'],
      });
      return ad.bid_type === 'CPM' ? impressionUrl : clickUrl;
    });

    const requestIdOf = (url: string) => urls.indexOf(url);
    const acknowledged = new Set<number>();
    let refused = 0;
    let sent = 0;
    /** Like a tracking client: it retries a callback that got no acknowledgement, for up to a minute. */
    const send = async (url: string): Promise<void> => {
      for (let attempt = 0; attempt < 120; attempt++) {
        sent += 1;
        try {
          const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          if (res.status === 204 || res.status === 302) {
            acknowledged.add(requestIdOf(url));
            return;
          }
        } catch {
          // connection refused or reset while logging or its Redis is down
        }
        refused += 1;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };
    let next = 0;
    const crashes: Promise<void>[] = [];
    const worker = async () => {
      while (next < urls.length) {
        const i = next++;
        if (i === Math.floor(EVENTS / 3))
          crashes.push(launcher.kill('logging').then(() => launcher.startApp('logging')));
        if (i === Math.floor((2 * EVENTS) / 3)) crashes.push(redis.restart());
        await send(urls[i]);
        // A client that is not sure its callback landed sends it again.
        if (i % 4 === 0) await send(urls[i]);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await Promise.all(crashes);

    expect(acknowledged.size).toBe(EVENTS);
    const ledger = async () =>
      (
        await db.query<{ request_id: string }>(
          `SELECT request_id FROM ledger_entries WHERE request_id LIKE $1`,
          [`${runId}-%`],
        )
      ).rows.map((row) => Number(row.request_id.slice(runId.length + 1)));
    const entries = await eventually(
      'every acknowledged event in the ledger',
      ledger,
      (ids) => ids.length >= EVENTS,
      {
        timeoutMs: 90_000,
        intervalMs: 500,
      },
    );
    const { rows: spend } = await db.query<{ charged: string; cost: string; day_charged: string }>(
      `SELECT (SELECT SUM(charged_micros) FROM ledger_entries WHERE request_id LIKE $1) AS charged,
              (SELECT SUM(cost_micros) FROM ledger_entries WHERE request_id LIKE $1) AS cost,
              (SELECT SUM(charged_micros) FROM campaign_day_spend) AS day_charged`,
      [`${runId}-%`],
    );
    process.stdout.write(
      `durability: ${EVENTS} events, ${sent} callbacks sent (${refused} refused or unanswered while down, then retried), ` +
        `${acknowledged.size} acknowledged; ledger ${entries.length} entries, ${new Set(entries).size} distinct\n`,
    );
    expect(entries.length).toBe(EVENTS);
    expect(new Set(entries).size).toBe(EVENTS);
    expect(Number(spend[0].charged)).toBe(Number(spend[0].cost));
    expect(Number(spend[0].day_charged)).toBe(Number(spend[0].charged));
  }, 240_000);
});
