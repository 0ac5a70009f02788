import { connect } from '@nats-io/transport-node';
import {
  type RedisPersistenceReport,
  natsConnectionOptions,
  readRedisPersistence,
  redactUrlUserinfo,
  redisCliFor,
} from '@adfunnel/platform';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface PreflightProblem {
  dependency: 'Redis' | 'NATS' | 'PostgreSQL';
  url: string;
  reason: string;
  howToStart: string;
}

export interface Preflight {
  /** Dependencies that do not answer: the funnel cannot start. */
  problems: PreflightProblem[];
  /** How Redis keeps queued jobs, when it answered. */
  redisPersistence?: RedisPersistenceReport;
  /** Why Redis answered PING but not about its persistence. */
  redisPersistenceError?: string;
}

const CONNECT_TIMEOUT_MS = 2000;

/**
 * Checks that the funnel's external dependencies answer (PostgreSQL only when `databaseUrl` is set),
 * says how to start the ones that don't, and reads whether Redis persists what it queues.
 */
export async function preflight(urls: {
  redisUrl: string;
  natsUrl: string;
  databaseUrl?: string | undefined;
}): Promise<Preflight> {
  const result: Preflight = { problems: [] };
  await checkRedis(urls.redisUrl, result);
  try {
    const nc = await connect({
      ...natsConnectionOptions(urls.natsUrl),
      timeout: CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: 0,
    });
    await nc.close();
  } catch (err) {
    result.problems.push({
      dependency: 'NATS',
      url: redactUrlUserinfo(urls.natsUrl),
      reason: reasonOf(err),
      howToStart:
        'nats-server -js -a 127.0.0.1 -p 4222 &   (or: docker compose -f docker/compose.yml up -d nats)',
    });
  }
  if (urls.databaseUrl !== undefined) await checkPostgres(urls.databaseUrl, result.problems);
  return result;
}

async function checkRedis(redisUrl: string, result: Preflight): Promise<void> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: () => null,
  });
  try {
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      result.problems.push({
        dependency: 'Redis',
        url: redactUrlUserinfo(redisUrl),
        reason: reasonOf(err),
        howToStart:
          `redis-server --daemonize yes --bind 127.0.0.1 --port ${portOf(redisUrl, 6379)} ` +
          '--appendonly yes --appendfsync always --maxmemory-policy noeviction' +
          '   (or: docker compose -f docker/compose.yml up -d redis)',
      });
      return;
    }
    try {
      result.redisPersistence = await readRedisPersistence(redis, redisCliFor(redisUrl));
    } catch (err) {
      result.redisPersistenceError = reasonOf(err);
    }
  } finally {
    redis.disconnect();
  }
}

async function checkPostgres(databaseUrl: string, problems: PreflightProblem[]): Promise<void> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    problems.push({
      dependency: 'PostgreSQL',
      url: redactUrlUserinfo(databaseUrl),
      reason: reasonOf(err),
      howToStart:
        'sudo service postgresql start   (or: docker compose -f docker/compose.yml up -d postgres; ' +
        'or unset DATABASE_URL to use the SQLite file at SQLITE_PATH)',
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What `npm start` prints before it starts anything: every problem, then how Redis keeps its jobs. */
export function formatPreflight(preflight: Preflight, redisUrl: string): string {
  const lines: string[] = [];
  for (const p of preflight.problems) {
    lines.push(
      '',
      `${p.dependency} is not reachable at ${p.url} (${p.reason}).`,
      'Start it with:',
      `  ${p.howToStart}`,
    );
  }
  const at = redactUrlUserinfo(redisUrl);
  const report = preflight.redisPersistence;
  if (preflight.redisPersistenceError !== undefined) {
    lines.push(
      '',
      `${LOUD}WARNING: cannot tell whether Redis at ${at} persists${PLAIN} (${preflight.redisPersistenceError}).`,
      '  Without AOF a Redis crash loses every queued event and served record waiting in Redis.',
    );
  } else if (report !== undefined && report.warnings.length === 0) {
    lines.push(`Redis at ${at} persists: ${describe(report)}.`);
  } else if (report !== undefined) {
    const what = report.persists ? 'can lose queued jobs' : 'DOES NOT PERSIST';
    lines.push('', `${LOUD}WARNING: Redis at ${at} ${what}${PLAIN} (${describe(report)}).`);
    for (const warning of report.warnings) lines.push(`  ${warning}.`);
    lines.push('  The funnel runs anyway (fine for a dev Redis). To fix it:');
    for (const fix of report.fixes) lines.push(`    ${fix}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

const LOUD = '\x1b[1;33m';
const PLAIN = '\x1b[0m';

function describe(report: RedisPersistenceReport): string {
  const persistence: Record<RedisPersistenceReport['persistence'], string> = {
    'aof-always': 'AOF, fsync on every write',
    'aof-everysec': 'AOF, fsync every second',
    'aof-no-fsync': 'AOF, fsync left to the OS',
    aof: 'AOF',
    rdb: 'RDB snapshots only, no AOF',
    none: 'no AOF, no RDB snapshots',
    'rdb-or-none': 'no AOF',
  };
  return `${persistence[report.persistence]}; maxmemory-policy ${report.evictionPolicy}`;
}

/** A failed connect to a name with several addresses is an AggregateError with an empty message. */
function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    return err.errors.map((inner) => reasonOf(inner)).join('; ');
  }
  if (err instanceof Error) return err.message || ((err as NodeJS.ErrnoException).code ?? err.name);
  return String(err);
}

function portOf(url: string, fallback: number): number {
  try {
    const port = new URL(url).port;
    return port === '' ? fallback : Number(port);
  } catch {
    return fallback;
  }
}
