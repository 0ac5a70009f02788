import { parseArgs } from 'node:util';

export const MODELS_CLI_HELP = `Usage: npm run models -- <command> [options]

Safe rollout of the ranking model through the ranking service's admin endpoints (its internal
port, Authorization: Bearer ADMIN_TOKEN; the token comes from ADMIN_TOKEN or var/secrets.json).

  status                      the served version, current and previous pointers, the shadow's counters
  shadow <version>            load <version> as a shadow beside the live model (POST /admin/model/shadow)
    --sample R                share of requests it also scores, 0-1 (default RANKING_SHADOW_SAMPLE)
  unshadow                    stop the shadow (DELETE /admin/model/shadow)
  promote [<version>]         make <version> (default: the running shadow) current and serve it
  rollback                    serve the previous version again (once per promote)
  report [--shadow-version V] live against shadow on the same shown ads (logging's GET /v1/reports/shadow)
    --since T --until T       scored in this window (epoch ms or ISO 8601)

  --ranking-url URL           default RANKING_URL, else http://127.0.0.1:3102
  --logging-url URL           default LOGGING_URL, else http://127.0.0.1:3104
  --json                      the endpoint's JSON answer instead of the summary
  -h, --help                  this text

Exit 0 done, 1 refused or failed (the service's message is printed), 2 bad usage.
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type ModelsCommand =
  | { command: 'help' }
  | { command: 'status' }
  | { command: 'shadow'; version: string; sample?: number }
  | { command: 'unshadow' }
  | { command: 'promote'; version?: string }
  | { command: 'rollback' }
  | { command: 'report'; shadowVersion?: string; since?: string; until?: string };

export interface ModelsCliArgs {
  run: ModelsCommand;
  rankingUrl?: string;
  loggingUrl?: string;
  json: boolean;
}

const VERSION = /^[A-Za-z0-9._-]+$/;

export function parseModelsCliArgs(argv: readonly string[]): ModelsCliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        sample: { type: 'string' },
        'shadow-version': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        'ranking-url': { type: 'string' },
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
    ...(values['ranking-url'] === undefined ? {} : { rankingUrl: url('--ranking-url', values['ranking-url']) }),
    ...(values['logging-url'] === undefined ? {} : { loggingUrl: url('--logging-url', values['logging-url']) }),
  };
  if (values.help) return { run: { command: 'help' }, ...common };
  const [command, ...rest] = positionals;
  const noMore = (allowed: number) => {
    if (rest.length > allowed) throw new UsageError(`unexpected argument "${rest[allowed]}"`);
  };
  const only = (flag: string, commands: string) => {
    if ((values as Record<string, unknown>)[flag] !== undefined)
      throw new UsageError(`--${flag} goes with ${commands} only`);
  };
  if (command !== 'shadow') only('sample', 'shadow');
  if (command !== 'report') for (const flag of ['shadow-version', 'since', 'until']) only(flag, 'report');
  switch (command) {
    case 'status':
    case 'unshadow':
    case 'rollback':
      noMore(0);
      return { run: { command }, ...common };
    case 'shadow': {
      noMore(1);
      const version = rest[0];
      if (version === undefined) throw new UsageError('shadow needs a version: npm run models -- shadow <version>');
      return {
        run: {
          command,
          version: versionName(version),
          ...(values.sample === undefined ? {} : { sample: share(values.sample) }),
        },
        ...common,
      };
    }
    case 'promote':
      noMore(1);
      return {
        run: { command, ...(rest[0] === undefined ? {} : { version: versionName(rest[0]) }) },
        ...common,
      };
    case 'report':
      noMore(0);
      return {
        run: {
          command,
          ...(values['shadow-version'] === undefined
            ? {}
            : { shadowVersion: versionName(values['shadow-version']) }),
          ...(values.since === undefined ? {} : { since: values.since }),
          ...(values.until === undefined ? {} : { until: values.until }),
        },
        ...common,
      };
    case undefined:
      throw new UsageError('name a command: status, shadow, unshadow, promote, rollback or report');
    default:
      throw new UsageError(
        `unknown command "${command}" (expected status, shadow, unshadow, promote, rollback or report)`,
      );
  }
}

function versionName(value: string): string {
  if (!VERSION.test(value)) throw new UsageError(`"${value}" is not a version directory name`);
  return value;
}

function share(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`--sample must be a number from 0 to 1, got "${value}"`);
  }
  return n;
}

function url(flag: string, value: string): string {
  try {
    return new URL(value).origin;
  } catch {
    throw new UsageError(`${flag} must be a URL such as http://127.0.0.1:3102, got "${value}"`);
  }
}
