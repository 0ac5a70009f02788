import { parseArgs } from 'node:util';
import { parseReportTime } from '@adfunnel/experiments';

export const EXPERIMENTS_CLI_HELP = `Usage: npm run experiments -- report [options]

The experiments' per-arm analysis from logging's GET /v1/reports/experiments (Authorization: Bearer
ADMIN_TOKEN; the token comes from ADMIN_TOKEN or var/secrets.json): per layer and arm the users,
requests, impressions, clicks, CTR, conversions, CVR, hides per 1000 impressions, revenue (the
ledger's charges) and advertiser value (outcomes at their bids), the user as the unit; each treatment
arm against its experiment's control (the arm named control, else the first) with a 95% interval and
the relative lift; the sample-ratio check of every layer and of the holdout against the rest.

  report                      the analysis
    --window-ms MS            served in the last MS milliseconds (default 3600000)
    --settle-ms MS            leaving out the last MS, whose clicks may still come (default 0)
    --request-id-prefix P     only requests whose id starts with P (one traffic run's)
    --limit N                 the most recent N labelled requests at most (default 500000)
    --config FILE             the experiments file (the gateway's EXPERIMENTS_CONFIG) whose shares the
                              sample-ratio checks compare with; default: logging's EXPERIMENTS_CONFIG
    --pre-days N              CUPED: each user's metrics over the N days (fractions allowed) before the
                              window's start are the covariates; every comparison gets a CUPED column
                              (difference, interval, and its width over the plain one's)
    --pre-from T --pre-to T   CUPED over [from, to) instead (ISO 8601: 2026-12-01 or
                              2026-12-01T06:00:00Z, or epoch ms), ending at or before the window's start;
                              a user with no request in the pre-period gets covariate 0
    --pre-request-id-prefix P only pre-period requests whose id starts with P (default: any)
    --bucket day|hour         the per-arm series by UTC day (default) or hour
    --html FILE               also write a self-contained HTML report to FILE: the config, the
                              sample-ratio checks, the arms, a forest plot of each comparison's lifts
                              (plain and CUPED) and the series per arm with 95% bands

  --logging-url URL           default LOGGING_URL, else http://127.0.0.1:3104
  --json                      the endpoint's JSON answer instead of the tables
  -h, --help                  this text

Exit 0 done, 1 refused or failed (the service's message is printed), 2 bad usage.
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type ExperimentsCommand =
  | { command: 'help' }
  | {
      command: 'report';
      windowMs?: number;
      settleMs?: number;
      limit?: number;
      requestIdPrefix?: string;
      config?: string;
      preFrom?: string;
      preTo?: string;
      preDays?: number;
      preRequestIdPrefix?: string;
      bucket?: 'day' | 'hour';
      html?: string;
    };

export interface ExperimentsCliArgs {
  run: ExperimentsCommand;
  loggingUrl?: string;
  json: boolean;
}

export function parseExperimentsCliArgs(argv: readonly string[]): ExperimentsCliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'window-ms': { type: 'string' },
        'settle-ms': { type: 'string' },
        limit: { type: 'string' },
        'request-id-prefix': { type: 'string' },
        config: { type: 'string' },
        'pre-from': { type: 'string' },
        'pre-to': { type: 'string' },
        'pre-days': { type: 'string' },
        'pre-request-id-prefix': { type: 'string' },
        bucket: { type: 'string' },
        html: { type: 'string' },
        'logging-url': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const common = {
    json: values.json,
    ...(values['logging-url'] === undefined
      ? {}
      : { loggingUrl: url('--logging-url', values['logging-url']) }),
  };
  if (values.help) return { run: { command: 'help' }, ...common };
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('name a command: report');
  if (command !== 'report') throw new UsageError(`unknown command "${command}" (expected report)`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const prefix = values['request-id-prefix'];
  if (prefix !== undefined && (prefix === '' || prefix.length > 128)) {
    throw new UsageError('--request-id-prefix must be 1 to 128 characters');
  }
  if (values.config === '') throw new UsageError('--config needs a file');
  if (values.html === '') throw new UsageError('--html needs a file');
  const prePrefix = values['pre-request-id-prefix'];
  if (prePrefix !== undefined && (prePrefix === '' || prePrefix.length > 128)) {
    throw new UsageError('--pre-request-id-prefix must be 1 to 128 characters');
  }
  const bucket = seriesBucket(values.bucket);
  const preDays = days('--pre-days', values['pre-days']);
  const preFrom = values['pre-from'];
  const preTo = values['pre-to'];
  if (preDays !== undefined && (preFrom !== undefined || preTo !== undefined)) {
    throw new UsageError('give --pre-days or --pre-from and --pre-to, not both');
  }
  if ((preFrom === undefined) !== (preTo === undefined)) {
    throw new UsageError(
      `--pre-from and --pre-to go together (only ${preFrom === undefined ? '--pre-to' : '--pre-from'} given)`,
    );
  }
  if (preFrom !== undefined && preTo !== undefined) {
    const from = time('--pre-from', preFrom);
    const to = time('--pre-to', preTo);
    if (from >= to) {
      throw new UsageError(
        `--pre-from (${new Date(from).toISOString()}) must be before --pre-to (${new Date(to).toISOString()})`,
      );
    }
  }
  return {
    run: {
      command,
      ...optional('windowMs', integer('--window-ms', values['window-ms'], 1)),
      ...optional('settleMs', integer('--settle-ms', values['settle-ms'], 0)),
      ...optional('limit', integer('--limit', values.limit, 1)),
      ...optional('requestIdPrefix', prefix),
      ...optional('config', values.config),
      ...optional('preFrom', preFrom),
      ...optional('preTo', preTo),
      ...optional('preDays', preDays),
      ...optional('preRequestIdPrefix', prePrefix),
      ...optional('bucket', bucket),
      ...optional('html', values.html),
    },
    ...common,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} must be an integer of at least ${min}, got "${value}"`);
  }
  return n;
}

function seriesBucket(value: string | undefined): 'day' | 'hour' | undefined {
  if (value === undefined || value === 'day' || value === 'hour') return value;
  throw new UsageError(`--bucket must be day or hour, got "${value}"`);
}

function days(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 90) {
    throw new UsageError(`${flag} must be a number of days above 0 and at most 90, got "${value}"`);
  }
  return n;
}

function time(flag: string, value: string): number {
  try {
    return parseReportTime(flag, value);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function url(flag: string, value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}
