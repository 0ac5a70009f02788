import { parseArgs } from 'node:util';

export const CATALOG_COMMANDS = ['migrate', 'seed', 'status', 'api-keys', 'help'] as const;
export type CatalogCommand = (typeof CATALOG_COMMANDS)[number];
export const API_KEY_ACTIONS = ['issue', 'list', 'revoke'] as const;
export const DEFAULT_API_KEY_LABEL = 'default';

export type ApiKeysArgs =
  | {
      action: 'issue';
      advertisers: number[] | 'all';
      label: string;
      /** Write the keys to this JSON file (mode 600) instead of printing them. */
      out: string | undefined;
    }
  | { action: 'list'; advertisers: number[] | 'all' }
  | { action: 'revoke'; keyHash: string };

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
  /** Set for the api-keys command. */
  apiKeys?: ApiKeysArgs;
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
  api-keys issue     Issue an API key to advertisers (for POST /v1/conversions). Each key is
                     shown once, printed or written to --out; only its SHA-256 is stored.
  api-keys list      List advertisers' keys: SHA-256, label, when issued and revoked (never the key).
  api-keys revoke    Revoke a key by its SHA-256 (printed when it was issued); at once, for good.
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

api-keys options:
  --advertiser ID    issue, list: the advertiser (an id, several comma-separated, or "all").
  --label TEXT       issue: what the key is for, e.g. "production" (default "default").
  --out FILE         issue: write the keys as JSON to FILE (created with mode 600) instead of
                     printing them: {"label", "issuedAt", "keys": [{"advertiserId", "key", "keyHash"}]}.
  --key-hash HASH    revoke: the key's SHA-256, 64 hex characters.

Environment:
  DATABASE_URL       postgres://user@host:port/db[?schema=name]; when unset, SQLite is used.
  SQLITE_PATH        SQLite file (default var/adfunnel.sqlite).
  LOG_LEVEL, LOG_FORMAT  As for the services.

Examples:
  npm run catalog -- migrate
  npm run catalog -- seed --if-empty
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run catalog -- seed --ads 2000 --users 500
  npm run catalog -- status --json
  npm run catalog -- api-keys issue --advertiser 42 --label production
  npm run catalog -- api-keys issue --advertiser all --out var/demo-api-keys.json
  npm run catalog -- api-keys list --advertiser 42
  npm run catalog -- api-keys revoke --key-hash 3f2a…(64 hex)

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
        advertiser: { type: 'string' },
        label: { type: 'string' },
        out: { type: 'string' },
        'key-hash': { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true)
    return { command: 'help', ifEmpty: false, json: false, overrides: {}, batchSize: undefined };
  if (positionals.length === 0)
    throw new UsageError(`missing command; expected one of ${CATALOG_COMMANDS.join(', ')}`);
  const command = positionals[0];
  if (!(CATALOG_COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}"; expected one of ${CATALOG_COMMANDS.join(', ')}`);
  }
  const expectedPositionals = command === 'api-keys' ? 2 : 1;
  if (positionals.length > expectedPositionals)
    throw new UsageError(`expected one command, got "${positionals.join(' ')}"`);

  const apiKeysOnly = ['advertiser', 'label', 'out', 'key-hash'] as const;
  if (command !== 'api-keys') {
    const misplaced = apiKeysOnly.filter((name) => values[name] !== undefined);
    if (misplaced.length > 0) throw new UsageError(`--${misplaced[0]} applies only to the api-keys command`);
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
  const apiKeys = command === 'api-keys' ? apiKeysArgs(positionals[1], values) : undefined;
  return {
    command: command as CatalogCommand,
    ...(apiKeys === undefined ? {} : { apiKeys }),
    ifEmpty: values['if-empty'] === true,
    json: values.json === true,
    overrides,
    batchSize: integerOption('batch-size', values['batch-size'], 1),
  };
}

function apiKeysArgs(
  action: string | undefined,
  values: { advertiser?: string; label?: string; out?: string; 'key-hash'?: string },
): ApiKeysArgs {
  if (action === undefined) throw new UsageError('api-keys needs an action: issue, list or revoke');
  if (action === 'issue') {
    if (values['key-hash'] !== undefined) throw new UsageError('--key-hash applies only to api-keys revoke');
    if (values.advertiser === undefined) {
      throw new UsageError('api-keys issue needs --advertiser <id|all>');
    }
    const label = values.label ?? DEFAULT_API_KEY_LABEL;
    if (label.trim() === '' || label.length > 100) throw new UsageError('--label must be 1-100 characters');
    if (values.out === '') throw new UsageError('--out needs a file name');
    return { action, advertisers: advertiserList(values.advertiser), label, out: values.out };
  }
  if (action === 'list') {
    const misplaced = (['label', 'out', 'key-hash'] as const).find((name) => values[name] !== undefined);
    if (misplaced !== undefined) throw new UsageError(`--${misplaced} does not apply to api-keys list`);
    if (values.advertiser === undefined) throw new UsageError('api-keys list needs --advertiser <id|all>');
    return { action, advertisers: advertiserList(values.advertiser) };
  }
  if (action === 'revoke') {
    const misplaced = (['advertiser', 'label', 'out'] as const).find((name) => values[name] !== undefined);
    if (misplaced !== undefined) throw new UsageError(`--${misplaced} applies only to api-keys issue`);
    const keyHash = values['key-hash'];
    if (keyHash === undefined) throw new UsageError('api-keys revoke needs --key-hash <sha-256 hex>');
    if (!/^[0-9a-f]{64}$/.test(keyHash)) {
      throw new UsageError(
        `--key-hash expects the 64 lower-case hex characters of the key's SHA-256, got "${keyHash}"`,
      );
    }
    return { action, keyHash };
  }
  throw new UsageError(`unknown api-keys action "${action}"; expected issue, list or revoke`);
}

function advertiserList(raw: string): number[] | 'all' {
  if (raw === 'all') return 'all';
  const ids = raw.split(',').map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (ids.some((id) => !Number.isSafeInteger(id) || id < 1)) {
    throw new UsageError(`--advertiser expects an id >= 1, several comma-separated, or "all", got "${raw}"`);
  }
  return ids;
}

function integerOption(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} expects an integer >= ${min}, got "${raw}"`);
  }
  return value;
}
