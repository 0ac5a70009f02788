import { parseArgs } from 'node:util';
import { MAX_SLOTS } from '@adfunnel/contracts';
import { DEMO_MARKETPLACE, type MarketplaceSpec } from '@adfunnel/simulator';

/** Where `npm start` writes the demo advertisers' keys. */
export const DEFAULT_API_KEYS_FILE = 'var/demo-api-keys.json';

export const SIM_CLI_HELP = `Usage: npm run sim -- run [options]
       npm run sim -- day [options]     a full simulated day on a funnel of its own (day --help)
       npm run sim -- budget-split [options]   the cannibalization bias of naive and budget-split
                                         experiments, four funnels of its own (budget-split --help)
       npm run sim -- compare A.json B.json [C.json]   runs side by side with 95% CIs (compare --help)
       node tools/sim/dist/sim-cli.js run [options]

Drives the running funnel with simulated users of the seeded marketplace. Users arrive over a
simulated day (evening peak, night trough; active users more often), ask the gateway for ads
(POST /v1/ads), and act on what they get through the real tracking endpoints: an impression for
every ad returned, clicks by the ground-truth model (position bias, relevance, fatigue), and
conversions posted as the ad's advertiser would: POST /v1/conversions with the click id of the
landing URL and that advertiser's API key (from --api-keys). A sample of requests
is also put to retrieval and ranking directly over NATS and measured against the oracle (recall,
logloss and AUC against the true probabilities, welfare against the best allocation).
Prints a progress bar on stderr and a summary table on stdout; --json writes the summary as JSON.
Seeded: the same seed against the same funnel makes the same users do the same things.

Options:
  --gateway URL            Gateway base URL (default http://127.0.0.1:3100).
  --logging URL            Where conversions are posted (default: the origin of the tracking URLs)
                           and, with ADMIN_TOKEN set, logging's calibration monitor is read for
                           the run's requests (default http://127.0.0.1:3104).
  --api-keys FILE          The advertisers' API keys, as \`npm run catalog -- api-keys issue
                           --advertiser all --out FILE\` writes them (default ${DEFAULT_API_KEYS_FILE},
                           which npm start writes for the demo catalog).
  --nats URL               NATS for the oracle's direct stage calls (default NATS_URL or
                           nats://127.0.0.1:4222; subjects in the BUS_NAMESPACE of the environment).
  --requests N             Stop after N requests (default 1000 when --duration is not given).
  --duration S             Stop starting requests after S seconds of wall time.
  --rate R                 At most R requests started per wall second (default 50; 0 = no limit).
  --concurrency N          Requests in flight at most (default 8).
  --users N                Population: users u00001..N of the marketplace visit (default all).
  --day-requests N         Visits per simulated day, all users together (default 4 x population).
  --start-hour H           Simulated clock at the start, 0-24 (default 0).
  --slots N                Ad slots per request, 1-${MAX_SLOTS} (default 3).
  --seed N                 Seed of the traffic (default 1).
  --oracle-sample F        Share of requests measured against the oracle, 0-1 (default 0.1; 0 turns
                           the oracle and its NATS connection off).
  --organic-per-visit F    Mean engagements with the product's own content per visit, reported
                           through POST /v1/activity before the ad request (default 2; 0: none).
                           Their categories follow each user's interests (80%) or are any.
  --retrieval-limit N      Candidates the oracle asks retrieval for; keep it equal to the gateway's
                           RETRIEVAL_CANDIDATES (default 200).
  --json PATH              Also write the summary as JSON to PATH ("-" for stdout).
  --no-progress            No progress output.
  -h, --help               Show this text.

The marketplace must be the one the catalog was seeded with (npm run catalog -- status):
  --spec-seed N            Marketplace seed (default ${DEMO_MARKETPLACE.seed}).
  --spec-advertisers N     Advertisers (default ${DEMO_MARKETPLACE.advertisers}).
  --spec-ads N             Ads (default ${DEMO_MARKETPLACE.ads}).
  --spec-users N           Users (default ${DEMO_MARKETPLACE.users}).

Examples:
  npm run sim -- run --requests 2000 --json var/sim.json
  npm run sim -- run --duration 60 --rate 40 --users 500 --day-requests 20000
  node tools/sim/dist/sim-cli.js run --spec-advertisers 60 --spec-ads 3000 --spec-users 2000

Exit status: 0 on success, 1 when the run failed, 2 on a usage error.
`;

/** Organic engagements per visit when --organic-per-visit is not given. */
export const DEFAULT_ORGANIC_PER_VISIT = 2;

export interface SimRunArgs {
  gateway: string;
  logging: string | undefined;
  apiKeys: string;
  nats: string | undefined;
  spec: MarketplaceSpec;
  maxRequests: number | null;
  durationMs: number | null;
  rate: number;
  concurrency: number;
  population: number;
  arrivalsPerDay: number;
  startHour: number;
  slots: number;
  seed: number;
  oracleSample: number;
  organicPerVisit: number;
  retrievalLimit: number;
  json: string | undefined;
  progress: boolean;
}

export type SimCliArgs = { command: 'help' } | ({ command: 'run' } & SimRunArgs);

/** A mistake on the command line; the CLI prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseSimCliArgs(argv: readonly string[]): SimCliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        gateway: { type: 'string' },
        logging: { type: 'string' },
        'api-keys': { type: 'string' },
        nats: { type: 'string' },
        requests: { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        concurrency: { type: 'string' },
        users: { type: 'string' },
        'day-requests': { type: 'string' },
        'start-hour': { type: 'string' },
        slots: { type: 'string' },
        seed: { type: 'string' },
        'oracle-sample': { type: 'string' },
        'organic-per-visit': { type: 'string' },
        'retrieval-limit': { type: 'string' },
        json: { type: 'string' },
        'no-progress': { type: 'boolean' },
        'spec-seed': { type: 'string' },
        'spec-advertisers': { type: 'string' },
        'spec-ads': { type: 'string' },
        'spec-users': { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values: v, positionals } = parsed;
  if (v.help === true || positionals[0] === 'help') return { command: 'help' };
  if (positionals.length === 0) throw new UsageError('missing command; expected run, day or help');
  if (positionals.length > 1) throw new UsageError(`expected one command, got "${positionals.join(' ')}"`);
  if (positionals[0] !== 'run')
    throw new UsageError(`unknown command "${positionals[0]}"; expected run, day or help`);

  const spec: MarketplaceSpec = {
    ...DEMO_MARKETPLACE,
    seed: integer('spec-seed', v['spec-seed'], 0) ?? DEMO_MARKETPLACE.seed,
    advertisers: integer('spec-advertisers', v['spec-advertisers'], 1) ?? DEMO_MARKETPLACE.advertisers,
    ads: integer('spec-ads', v['spec-ads'], 1) ?? DEMO_MARKETPLACE.ads,
    users: integer('spec-users', v['spec-users'], 1) ?? DEMO_MARKETPLACE.users,
  };
  const population = integer('users', v.users, 1) ?? spec.users;
  if (population > spec.users) {
    throw new UsageError(
      `--users ${population} exceeds the marketplace's ${spec.users} users (--spec-users)`,
    );
  }
  const duration = decimal('duration', v.duration, 0, false);
  const requests = integer('requests', v.requests, 1);
  const startHour = decimal('start-hour', v['start-hour'], 0, true) ?? 0;
  if (startHour > 24)
    throw new UsageError(`--start-hour expects an hour from 0 to 24, got "${v['start-hour']}"`);
  const slots = integer('slots', v.slots, 1) ?? 3;
  if (slots > MAX_SLOTS) throw new UsageError(`--slots expects 1 to ${MAX_SLOTS}, got ${slots}`);
  const oracleSample = decimal('oracle-sample', v['oracle-sample'], 0, true) ?? 0.1;
  if (oracleSample > 1)
    throw new UsageError(`--oracle-sample expects a share from 0 to 1, got "${v['oracle-sample']}"`);
  const organicPerVisit = organicPerVisitArg(v['organic-per-visit'], DEFAULT_ORGANIC_PER_VISIT);
  const retrievalLimit = integer('retrieval-limit', v['retrieval-limit'], 1) ?? 200;
  if (retrievalLimit > 2000)
    throw new UsageError(`--retrieval-limit expects 1 to 2000, got ${retrievalLimit}`);
  return {
    command: 'run',
    gateway: url('gateway', v.gateway) ?? 'http://127.0.0.1:3100',
    logging: url('logging', v.logging),
    apiKeys: nonEmpty('api-keys', v['api-keys']) ?? DEFAULT_API_KEYS_FILE,
    nats: v.nats,
    spec,
    maxRequests: requests ?? (duration === undefined ? 1000 : null),
    durationMs: duration === undefined ? null : duration * 1000,
    rate: decimal('rate', v.rate, 0, true) ?? 50,
    concurrency: integer('concurrency', v.concurrency, 1) ?? 8,
    population,
    arrivalsPerDay: decimal('day-requests', v['day-requests'], 0, false) ?? 4 * population,
    startHour,
    slots,
    seed: integer('seed', v.seed, 0) ?? 1,
    oracleSample,
    organicPerVisit,
    retrievalLimit,
    json: v.json,
    progress: v['no-progress'] !== true,
  };
}

/** `--organic-per-visit`: a mean from 0 to 50, `fallback` when not given. */
export function organicPerVisitArg(raw: string | undefined, fallback: number): number {
  const mean = decimal('organic-per-visit', raw, 0, true) ?? fallback;
  if (mean > 50) throw new UsageError(`--organic-per-visit expects a mean from 0 to 50, got "${raw}"`);
  return mean;
}

/** An optional `--name` integer of at least `min`; the error names the flag and what it expects. */
export function integer(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} expects an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

/** An optional `--name` decimal of at least `min` (above it, unless `inclusive`). */
export function decimal(
  name: string,
  raw: string | undefined,
  min: number,
  inclusive: boolean,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value < min || (!inclusive && value === min)) {
    throw new UsageError(`--${name} expects a number ${inclusive ? '>=' : '>'} ${min}, got "${raw}"`);
  }
  return value;
}

function nonEmpty(name: string, raw: string | undefined): string | undefined {
  if (raw === '') throw new UsageError(`--${name} needs a file name`);
  return raw;
}

function url(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = new URL(raw);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`--${name} expects an http(s) URL such as http://127.0.0.1:3100, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}
