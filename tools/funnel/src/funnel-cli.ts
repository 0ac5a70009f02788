#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommonEnv, loadConfig } from '@adfunnel/platform';
import { z } from 'zod';
import {
  DEFAULT_PORTS,
  type FunnelApp,
  FunnelLauncher,
  SERVICE_APPS,
  parseColocation,
} from './funnel-launcher.js';
import { applyInstallationSecrets } from './installation-secrets.js';
import { formatPreflight, preflight } from './preflight.js';

/** What `npm start` runs together unless told otherwise (--colocate, FUNNEL_COLOCATE). */
const DEFAULT_COLOCATION = 'gateway+retrieval+ranking+auction,logging+advertiser';

const HELP = `adfunnel - run the whole ads funnel on this machine

Usage: npm start            (installs, builds, then runs: adfunnel start)
       node tools/funnel/dist/funnel-cli.js start [--no-seed] [--colocate <groups>]
       node tools/funnel/dist/funnel-cli.js --help

start   checks that Redis and NATS (and PostgreSQL, with DATABASE_URL) answer, warns when Redis
        does not persist its queues (no AOF) or may evict them, migrates the catalog database,
        seeds the demo marketplace if the catalog is empty, issues every advertiser a demo API
        key into var/demo-api-keys.json (mode 600; var/demo-api-keys-<tag>.json for a database
        other than the default SQLite file) when that file is missing, starts the six services
        (logging, the advertiser API, retrieval, ranking, auction, gateway; by default the
        serving four in one process, logging and the advertiser API in another, see
        --colocate), waits until each is healthy, prints the URLs (gateway,
        advertiser API, dashboard) and an example request, and stops everything on Ctrl-C. A service that exits on its own is
        started again: to restart one, send it SIGTERM (pkill -f apps/logging/dist/main.js, or
        pkill -f colocated-main.js for the co-located group); it drains and comes back with the
        same environment.
        --no-seed skips the seed and the demo keys.
        --colocate <groups> says which services share a process: + joins a group, a comma
        separates groups, all puts the six in one, none gives each its own. A call between
        services of one process skips NATS (they still serve it to others over NATS).
        Restarting one service of a group restarts its process. Default: FUNNEL_COLOCATE, else
        ${DEFAULT_COLOCATION} (the serving stages in one
        process, logging and the advertiser API in another: the serving stages then cost 40-50%
        less CPU; README, Processes).

Environment (all optional):
  NATS_URL        default nats://127.0.0.1:4222
  REDIS_URL       default redis://127.0.0.1:6379
  DATABASE_URL    postgres://... to use PostgreSQL; default is SQLite at SQLITE_PATH
  SQLITE_PATH     default var/adfunnel.sqlite
  GATEWAY_PORT, RETRIEVAL_PORT, RANKING_PORT, AUCTION_PORT, LOGGING_PORT, ADVERTISER_PORT
                  default ${SERVICE_APPS.map((a) => `${a} ${DEFAULT_PORTS[a]}`).join(', ')}
  LOG_FORMAT      pretty (default) or json
  FUNNEL_COLOCATE the same as --colocate (the option wins)
  TRACKING_SECRET, ADMIN_TOKEN
                  default: generated once per installation into var/secrets.json (mode 600)
Any other variable the services understand (see README) is passed through to them.
`;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Where the demo advertisers' API keys go (git-ignored): the simulator posts conversions with them. */
const DEMO_API_KEYS = join('var', 'demo-api-keys.json');
const DEFAULT_SQLITE_PATH = CommonEnv.SQLITE_PATH.parse(undefined);
const COLORS: Record<FunnelApp, string> = {
  gateway: '\x1b[36m',
  retrieval: '\x1b[32m',
  ranking: '\x1b[35m',
  auction: '\x1b[33m',
  logging: '\x1b[34m',
  advertiser: '\x1b[31m',
};

const FunnelEnvSchema = z.object({ ...CommonEnv });
/** A service that exits on its own (a crash, or SIGTERM to restart just it) is started again after this. */
const RESTART_AFTER_MS = 1000;

async function start(args: string[]): Promise<void> {
  // A wrong --colocate is refused before any set-up work.
  let colocate: FunnelApp[][];
  try {
    colocate = parseColocation(
      optionValue(args, '--colocate') ?? process.env['FUNNEL_COLOCATE'] ?? DEFAULT_COLOCATION,
    );
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const config = loadConfig(FunnelEnvSchema);
  const checked = await preflight({
    redisUrl: config.REDIS_URL,
    natsUrl: config.NATS_URL,
    databaseUrl: config.DATABASE_URL,
  });
  process.stderr.write(formatPreflight(checked, config.REDIS_URL));
  if (checked.problems.length > 0) process.exit(1);

  runCatalog(['migrate']);
  const seeding = !args.includes('--no-seed');
  if (seeding) runCatalog(['seed', '--if-empty']);
  const keysNote = seeding ? demoApiKeys(demoApiKeysFile(config)) : '';

  const env = passThroughEnv();
  let secretsNote: string;
  try {
    secretsNote = applyInstallationSecrets(ROOT, env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const launcher = new FunnelLauncher({
    root: ROOT,
    env,
    onLine: (app, line) => process.stdout.write(`${COLORS[app]}${app.padEnd(10)}\x1b[0m ${line}\n`),
    restartAfterMs: RESTART_AFTER_MS,
    apps: SERVICE_APPS,
    colocate,
    onExit: (app, code, signal) =>
      process.stdout.write(
        `${COLORS[app]}${app.padEnd(10)}\x1b[0m exited (${signal ?? `code ${code}`}); starting it again in ${RESTART_AFTER_MS / 1000} s\n`,
      ),
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping the funnel...\n');
    await launcher.stopAll();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  try {
    await launcher.start();
  } catch (err) {
    process.stderr.write(`\n${(err as Error).message}\n`);
    await launcher.stopAll();
    process.exit(1);
  }
  const gateway = launcher.url('gateway');
  process.stdout.write(`
\x1b[1madfunnel is serving ads at ${gateway}\x1b[0m   (API docs: ${gateway}/docs)

Try:
  curl -s -X POST ${gateway}/v1/ads -H 'content-type: application/json' \\
    -d '{"userId":"u00042","surface":"home_feed","country":"US","device":"mobile","slots":3}'

Advertiser API: ${launcher.url('advertiser')} (docs: ${launcher.url('advertiser')}/docs; Bearer <API key> from the file below)
Dashboard: ${launcher.url('logging')}/dashboard (sign in with ADMIN_TOKEN, or an advertiser's API key)
Health: ${SERVICE_APPS.map((a) => `${launcher.url(a)}/health`).join('  ')}
${keysNote}${secretsNote}Press Ctrl-C to stop.
`);
}

function runCatalog(args: string[]): void {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'tools', 'catalog', 'dist', 'catalog-cli.js'), ...args],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) {
    process.stderr.write(`catalog ${args.join(' ')} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(1);
  }
}

/**
 * Issues the demo keys once: a key is shown only when issued, so the file is the only copy and is
 * never overwritten. Returns the line the start-up banner prints about them.
 */
function demoApiKeys(file: string): string {
  if (existsSync(join(ROOT, file))) {
    return `Advertiser API keys (the advertiser API, POST /v1/conversions): ${file}\n`;
  }
  runCatalog(['api-keys', 'issue', '--advertiser', 'all', '--label', 'demo', '--out', file]);
  return `Advertiser API keys (the advertiser API, POST /v1/conversions), new this start: ${file}\n`;
}

/** Keys are valid only for the database that issued them: another database gets a file of its own. */
function demoApiKeysFile(config: { DATABASE_URL?: string | undefined; SQLITE_PATH: string }): string {
  const database = config.DATABASE_URL ?? resolve(ROOT, config.SQLITE_PATH);
  if (database === resolve(ROOT, DEFAULT_SQLITE_PATH)) return DEMO_API_KEYS;
  const tag = createHash('sha256').update(database).digest('hex').slice(0, 8);
  return join('var', `demo-api-keys-${tag}.json`);
}

/** The value after `name` (`--colocate all`) or in `name=value`; undefined when absent. */
function optionValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === name) {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) {
        process.stderr.write(`${name} needs a value, e.g. ${name} gateway+retrieval+ranking+auction\n`);
        process.exit(2);
      }
      return value;
    }
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** The services read their own configuration; the launcher hands them this process's environment. */
function passThroughEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return env;
}

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(HELP);
} else if (command === 'start') {
  await start(rest);
} else {
  process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
  process.exit(2);
}
