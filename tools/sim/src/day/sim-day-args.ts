import { parseArgs } from 'node:util';
import { MAX_SLOTS } from '@adfunnel/contracts';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import { UsageError, decimal, integer, organicPerVisitArg } from '../sim-cli-args.js';

/** A marketplace small enough that a day's traffic gives each campaign tens of charges an hour. */
export const DAY_MARKETPLACE: MarketplaceSpec = {
  seed: 42,
  advertisers: 12,
  campaignsPerAdvertiser: 3,
  ads: 1200,
  users: 3000,
};

export const SIM_DAY_HELP = `Usage: npm run sim -- day [options]
       node tools/sim/dist/sim-cli.js day [options]

Runs a full simulated day through a funnel of its own (the built apps: npm run build first) on a
scaled clock (CLOCK=scaled:...), with a temporary SQLite catalog seeded from the marketplace and
its own bus namespace and Redis keys, on this machine's NATS and Redis.

1. A history day at lower volume teaches the auction the traffic curve (requests per hour) and
   measures what each campaign spends unthrottled.
2. Budgets for the next day: a share of the campaigns get a fraction of that demand (budget-limited),
   the others three times it.
3. The funnel restarts on a clock at the next midnight and the measured day runs.
4. From the ledger, per budget-limited campaign: final spend / budget (min, p10, median, p90, max),
   the share of hours whose spend is within +/-20% of the target curve (budget x the hour's share of
   the expected traffic), what Poisson noise alone would allow, and spend beyond the budget (must be 0).

Options:
  --requests N             Visits on the measured day (default 7000).
  --day-seconds S          Wall seconds the measured day lasts (default 200).
  --history-requests N     Visits on the history day (default 2000).
  --history-seconds S      Wall seconds the history day lasts (default 45).
  --limited-share F        Share of campaigns given a budget below their demand, 0-1 (default 0.75).
  --budget-fraction A-B    Their budget: a fraction of their demand drawn from A-B (default 0.35-0.7).
  --slice-seconds S        Pacing slice, simulated seconds (default 120).
  --pacing on|off          off: every campaign passes as if asap, to compare (default on).
  --bid-types cpm|seeded   cpm (default): every campaign bids CPM (log-normal, median $20), so its
                           spend comes in per impression, dense enough to follow hour by hour;
                           seeded: the marketplace's own mix, mostly CPC and CPA (a few clicks an hour).
  --users N                Population (default all of the marketplace's users).
  --concurrency N          Visits in flight at most (default 16).
  --slots N                Ad slots per request (default 3).
  --organic-per-visit F    Mean engagements with the product's own content per visit, reported
                           through POST /v1/activity (default 0: a pacing day measures the budget
                           path, and a second call per visit makes visits leave late on a busy
                           machine).
  --seed N                 Seed of the traffic and of the budgets (default 1).
  --base-port P            The gateway's port; the other services take the next four (default 4700).
  --nats URL, --redis URL  Default NATS_URL / REDIS_URL or this machine's.
  --json PATH              Also write the report as JSON to PATH ("-" for stdout).
  --keep                   Keep the working directory (catalog, ledger).
  --no-progress            No progress output.
  --spec-seed N, --spec-advertisers N, --spec-campaigns N, --spec-ads N, --spec-users N
                           The marketplace (default seed ${DAY_MARKETPLACE.seed}, ${DAY_MARKETPLACE.advertisers} advertisers x ${DAY_MARKETPLACE.campaignsPerAdvertiser} campaigns, ${DAY_MARKETPLACE.ads} ads, ${DAY_MARKETPLACE.users} users).

Exit status: 0 on success, 1 when the run failed, 2 on a usage error.
`;

export interface SimDayArgs {
  spec: MarketplaceSpec;
  population: number;
  dayRequests: number;
  daySeconds: number;
  historyRequests: number;
  historySeconds: number;
  limitedShare: number;
  budgetFraction: [number, number];
  sliceSeconds: number;
  bidTypes: 'cpm' | 'seeded';
  pacing: 'on' | 'off';
  concurrency: number;
  slots: number;
  organicPerVisit: number;
  seed: number;
  basePort: number;
  nats: string | undefined;
  redis: string | undefined;
  json: string | undefined;
  keep: boolean;
  progress: boolean;
}

export function parseSimDayArgs(
  argv: readonly string[],
): { command: 'help' } | ({ command: 'day' } & SimDayArgs) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        requests: { type: 'string' },
        'day-seconds': { type: 'string' },
        'history-requests': { type: 'string' },
        'history-seconds': { type: 'string' },
        'limited-share': { type: 'string' },
        'budget-fraction': { type: 'string' },
        'slice-seconds': { type: 'string' },
        pacing: { type: 'string' },
        'bid-types': { type: 'string' },
        users: { type: 'string' },
        concurrency: { type: 'string' },
        slots: { type: 'string' },
        'organic-per-visit': { type: 'string' },
        seed: { type: 'string' },
        'base-port': { type: 'string' },
        nats: { type: 'string' },
        redis: { type: 'string' },
        json: { type: 'string' },
        keep: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        ...SMALL_MARKETPLACE_OPTIONS,
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help === true) return { command: 'help' };
  const { spec, population } = smallMarketplaceOf(v);
  const limitedShare = decimal('limited-share', v['limited-share'], 0, true) ?? 0.75;
  if (limitedShare > 1)
    throw new UsageError(`--limited-share expects a share from 0 to 1, got "${v['limited-share']}"`);
  const pacing = v.pacing ?? 'on';
  if (pacing !== 'on' && pacing !== 'off')
    throw new UsageError(`--pacing expects on or off, got "${pacing}"`);
  const bidTypes = v['bid-types'] ?? 'cpm';
  if (bidTypes !== 'cpm' && bidTypes !== 'seeded') {
    throw new UsageError(`--bid-types expects cpm or seeded, got "${bidTypes}"`);
  }
  const slots = integer('slots', v.slots, 1) ?? 3;
  if (slots > MAX_SLOTS) throw new UsageError(`--slots expects 1 to ${MAX_SLOTS}, got ${slots}`);
  const basePort = integer('base-port', v['base-port'], 1) ?? 4700;
  if (basePort > 65_531) throw new UsageError(`--base-port expects a port up to 65531, got ${basePort}`);
  return {
    command: 'day',
    spec,
    population,
    dayRequests: integer('requests', v.requests, 1) ?? 7_000,
    daySeconds: decimal('day-seconds', v['day-seconds'], 0, false) ?? 200,
    historyRequests: integer('history-requests', v['history-requests'], 1) ?? 2_000,
    historySeconds: decimal('history-seconds', v['history-seconds'], 0, false) ?? 45,
    limitedShare,
    budgetFraction: fractionRange(v['budget-fraction']) ?? [0.35, 0.7],
    sliceSeconds: integer('slice-seconds', v['slice-seconds'], 1) ?? 120,
    bidTypes,
    pacing,
    concurrency: integer('concurrency', v.concurrency, 1) ?? 16,
    slots,
    organicPerVisit: organicPerVisitArg(v['organic-per-visit'], 0),
    seed: integer('seed', v.seed, 0) ?? 1,
    basePort,
    nats: v.nats,
    redis: v.redis,
    json: v.json,
    keep: v.keep === true,
    progress: v['no-progress'] !== true,
  };
}

/** parseArgs options of the --spec-* flags smallMarketplaceOf reads. */
export const SMALL_MARKETPLACE_OPTIONS = {
  'spec-seed': { type: 'string' },
  'spec-advertisers': { type: 'string' },
  'spec-campaigns': { type: 'string' },
  'spec-ads': { type: 'string' },
  'spec-users': { type: 'string' },
} as const;

/**
 * The --spec-* and --users flags of a run on a marketplace of its own, defaulting to DAY_MARKETPLACE,
 * with the population (default all of its users) checked against it.
 */
export function smallMarketplaceOf(v: {
  'spec-seed'?: string | undefined;
  'spec-advertisers'?: string | undefined;
  'spec-campaigns'?: string | undefined;
  'spec-ads'?: string | undefined;
  'spec-users'?: string | undefined;
  users?: string | undefined;
}): { spec: MarketplaceSpec; population: number } {
  const spec: MarketplaceSpec = {
    seed: integer('spec-seed', v['spec-seed'], 0) ?? DAY_MARKETPLACE.seed,
    advertisers: integer('spec-advertisers', v['spec-advertisers'], 1) ?? DAY_MARKETPLACE.advertisers,
    campaignsPerAdvertiser:
      integer('spec-campaigns', v['spec-campaigns'], 1) ?? DAY_MARKETPLACE.campaignsPerAdvertiser,
    ads: integer('spec-ads', v['spec-ads'], 1) ?? DAY_MARKETPLACE.ads,
    users: integer('spec-users', v['spec-users'], 1) ?? DAY_MARKETPLACE.users,
  };
  const population = integer('users', v.users, 1) ?? spec.users;
  if (population > spec.users) {
    throw new UsageError(
      `--users ${population} exceeds the marketplace's ${spec.users} users (--spec-users)`,
    );
  }
  return { spec, population };
}

function fractionRange(raw: string | undefined): [number, number] | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(raw);
  const [low, high] = match === null ? [Number.NaN, Number.NaN] : [Number(match[1]), Number(match[2])];
  if (!(low > 0 && low <= high && high < 1)) {
    throw new UsageError(`--budget-fraction expects A-B with 0 < A <= B < 1, such as 0.35-0.7, got "${raw}"`);
  }
  return [low, high];
}
