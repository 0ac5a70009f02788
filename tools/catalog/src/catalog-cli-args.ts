import { parseArgs } from 'node:util';

export const CATALOG_COMMANDS = ['migrate', 'seed', 'status', 'help'] as const;
export type CatalogCommand = (typeof CATALOG_COMMANDS)[number];

export interface SpecOverrides {
  seed?: number;
  advertisers?: number;
  ads?: number;
  users?: number;
}

export interface CatalogCliArgs {
  command: CatalogCommand;
  ifEmpty: boolean;
  json: boolean;
  overrides: SpecOverrides;
  batchSize: number | undefined;
}

export const CATALOG_CLI_HELP = `Usage: npm run catalog -- <command> [options]

Manages the adfunnel catalog database (advertisers, campaigns, ads, user profiles, and the
tracking-event and served-ad tables the logging service writes).

Commands:
  migrate            Apply pending schema migrations. Safe to repeat.
  seed               Fill the catalog with the simulated demo marketplace (200 advertisers x 3
                     campaigns, 10,000 ads, 10,000 users). Deterministic and idempotent: a repeat
                     inserts nothing; a catalog seeded from a different spec is refused.
  status             Show the database, pending migrations, row counts and the seeded spec.
  help               Show this text.

Seed options:
  --if-empty         Do nothing when the catalog already has ads (whatever spec seeded it).
  --seed N           Random seed of the marketplace (default 42).
  --advertisers N    Number of advertisers (default 200; each has 3 campaigns).
  --ads N            Number of ads (default 10000).
  --users N          Number of user profiles (default 10000).
  --batch-size N     Rows per insert transaction (default 1000).

Status options:
  --json             Print the status as JSON.

Environment:
  DATABASE_URL       postgres://user@host:port/db[?schema=name]; when unset, SQLite is used.
  SQLITE_PATH        SQLite file (default var/adfunnel.sqlite).
  LOG_LEVEL, LOG_FORMAT  As for the services.

Examples:
  npm run catalog -- migrate
  npm run catalog -- seed --if-empty
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run catalog -- seed --ads 2000 --users 500
  npm run catalog -- status --json

Exit status: 0 on success, 1 when the command failed, 2 on a usage error.
`;

/** A mistake in the command line; the CLI prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCatalogCliArgs(argv: readonly string[]): CatalogCliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'if-empty': { type: 'boolean' },
        json: { type: 'boolean' },
        seed: { type: 'string' },
        advertisers: { type: 'string' },
        ads: { type: 'string' },
        users: { type: 'string' },
        'batch-size': { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true)
    return { command: 'help', ifEmpty: false, json: false, overrides: {}, batchSize: undefined };
  if (positionals.length === 0)
    throw new UsageError('missing command; expected one of migrate, seed, status, help');
  if (positionals.length > 1) throw new UsageError(`expected one command, got "${positionals.join(' ')}"`);
  const command = positionals[0];
  if (!(CATALOG_COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}"; expected one of ${CATALOG_COMMANDS.join(', ')}`);
  }

  const seedOnly = ['if-empty', 'seed', 'advertisers', 'ads', 'users', 'batch-size'] as const;
  if (command !== 'seed') {
    const misplaced = seedOnly.filter((name) => values[name] !== undefined);
    if (misplaced.length > 0) throw new UsageError(`--${misplaced[0]} applies only to the seed command`);
  }
  if (command !== 'status' && values.json !== undefined)
    throw new UsageError('--json applies only to the status command');

  const overrides: SpecOverrides = {};
  const seed = integerOption('seed', values.seed, 0);
  const advertisers = integerOption('advertisers', values.advertisers, 1);
  const ads = integerOption('ads', values.ads, 1);
  const users = integerOption('users', values.users, 0);
  if (seed !== undefined) overrides.seed = seed;
  if (advertisers !== undefined) overrides.advertisers = advertisers;
  if (ads !== undefined) overrides.ads = ads;
  if (users !== undefined) overrides.users = users;
  return {
    command: command as CatalogCommand,
    ifEmpty: values['if-empty'] === true,
    json: values.json === true,
    overrides,
    batchSize: integerOption('batch-size', values['batch-size'], 1),
  };
}

function integerOption(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} expects an integer >= ${min}, got "${raw}"`);
  }
  return value;
}
