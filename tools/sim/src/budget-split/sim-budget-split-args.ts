import { parseArgs } from 'node:util';
import { MAX_SLOTS } from '@adfunnel/contracts';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import { DAY_MARKETPLACE, SMALL_MARKETPLACE_OPTIONS, smallMarketplaceOf } from '../day/sim-day-args.js';
import { UsageError, decimal, integer, organicPerVisitArg } from '../sim-cli-args.js';
import { BUDGET_SPLIT_DESIGNS, type BudgetSplitDesign } from './budget-split-estimates.js';

export const SIM_BUDGET_SPLIT_HELP = `Usage: npm run sim -- budget-split [options]
       node tools/sim/dist/sim-cli.js budget-split [options]

Measures the cannibalization bias of marketplace A/B tests through the real funnel (the built apps:
npm run build first). One ad-load experiment, the treatment showing more ads per request than the
control, runs four ways, each on a funnel of its own (temporary SQLite catalog, own bus namespace
and Redis keys, a scaled clock) with the same simulated day of visits and every campaign on the
same daily budget, low enough to bind, paced asap:

  global-control     all users on control: the world without the treatment
  global-treatment   all users on treatment: the world after launching it
  naive              50/50 by user, both arms spending from every campaign's one budget
  budget-split       50/50 by user, each arm spending from its half of every budget
                     (EXPERIMENTS_CONFIG layer with "budgetSplit": true)

The effect of launching is global-treatment's revenue per user minus global-control's. Each 50/50
design estimates it by treatment minus control; the table gives each estimate, its bias (estimate
minus the launch effect) with a 95% CI, and the same for the relative lift. Revenue per user is
the ledger's charges over every user of the population, by the arm the config assigns them.

Options:
  --requests N             Visits of the day (default 6000).
  --day-seconds S          Wall seconds the day lasts (default 60).
  --budget USD             Every campaign's daily budget (default 1).
  --control-slots N        Control's ad load (default 1).
  --treatment-slots N      Treatment's ad load (default 3); the traffic asks for the larger.
  --designs A,B            Run only these of ${BUDGET_SPLIT_DESIGNS.join(', ')} (default all; the
                           estimates need all four).
  --users N                Population (default all of the marketplace's users).
  --concurrency N          Visits in flight at most (default 16).
  --organic-per-visit F    Organic engagements per visit (default 0).
  --seed N                 Seed of the traffic and of the assignment's salt (default 1).
  --base-port P            The gateway's port; the other services take the next four (default 4700).
  --nats URL, --redis URL  Default NATS_URL / REDIS_URL or this machine's.
  --json PATH              Also write the result as JSON to PATH ("-" for stdout).
  --keep                   Keep each design's working directory (catalog, ledger).
  --spec-seed N, --spec-advertisers N, --spec-campaigns N, --spec-ads N, --spec-users N
                           The marketplace (default seed ${DAY_MARKETPLACE.seed}, ${DAY_MARKETPLACE.advertisers} advertisers x ${DAY_MARKETPLACE.campaignsPerAdvertiser} campaigns, ${DAY_MARKETPLACE.ads} ads, ${DAY_MARKETPLACE.users} users).

Exit status: 0 on success, 1 when the run failed, 2 on a usage error.
`;

export interface SimBudgetSplitArgs {
  spec: MarketplaceSpec;
  population: number;
  requests: number;
  daySeconds: number;
  budgetUsd: number;
  controlSlots: number;
  treatmentSlots: number;
  designs: BudgetSplitDesign[];
  concurrency: number;
  organicPerVisit: number;
  seed: number;
  basePort: number;
  nats: string | undefined;
  redis: string | undefined;
  json: string | undefined;
  keep: boolean;
}

export function parseSimBudgetSplitArgs(
  argv: readonly string[],
): { command: 'help' } | ({ command: 'budget-split' } & SimBudgetSplitArgs) {
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
        budget: { type: 'string' },
        'control-slots': { type: 'string' },
        'treatment-slots': { type: 'string' },
        designs: { type: 'string' },
        users: { type: 'string' },
        concurrency: { type: 'string' },
        'organic-per-visit': { type: 'string' },
        seed: { type: 'string' },
        'base-port': { type: 'string' },
        nats: { type: 'string' },
        redis: { type: 'string' },
        json: { type: 'string' },
        keep: { type: 'boolean' },
        ...SMALL_MARKETPLACE_OPTIONS,
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help === true) return { command: 'help' };
  const { spec, population } = smallMarketplaceOf(v);
  const slotsArg = (name: string, raw: string | undefined, fallback: number) => {
    const slots = integer(name, raw, 1) ?? fallback;
    if (slots > MAX_SLOTS) throw new UsageError(`--${name} expects 1 to ${MAX_SLOTS}, got ${slots}`);
    return slots;
  };
  const controlSlots = slotsArg('control-slots', v['control-slots'], 1);
  const treatmentSlots = slotsArg('treatment-slots', v['treatment-slots'], 3);
  if (controlSlots === treatmentSlots) {
    throw new UsageError(
      `--control-slots and --treatment-slots are both ${controlSlots}: the treatment must change the ad load`,
    );
  }
  const budgetUsd = decimal('budget', v.budget, 0, false) ?? 1;
  const basePort = integer('base-port', v['base-port'], 1) ?? 4700;
  if (basePort > 65_531) throw new UsageError(`--base-port expects a port up to 65531, got ${basePort}`);
  return {
    command: 'budget-split',
    spec,
    population,
    requests: integer('requests', v.requests, 1) ?? 6_000,
    daySeconds: decimal('day-seconds', v['day-seconds'], 0, false) ?? 60,
    budgetUsd,
    controlSlots,
    treatmentSlots,
    designs: designsArg(v.designs),
    concurrency: integer('concurrency', v.concurrency, 1) ?? 16,
    organicPerVisit: organicPerVisitArg(v['organic-per-visit'], 0),
    seed: integer('seed', v.seed, 0) ?? 1,
    basePort,
    nats: v.nats,
    redis: v.redis,
    json: v.json,
    keep: v.keep === true,
  };
}

function designsArg(raw: string | undefined): BudgetSplitDesign[] {
  if (raw === undefined) return [...BUDGET_SPLIT_DESIGNS];
  const names = raw.split(',').map((s) => s.trim());
  const designs: BudgetSplitDesign[] = [];
  for (const name of names) {
    if (!(BUDGET_SPLIT_DESIGNS as readonly string[]).includes(name)) {
      throw new UsageError(`--designs: "${name}" is not one of ${BUDGET_SPLIT_DESIGNS.join(', ')}`);
    }
    if (designs.includes(name as BudgetSplitDesign)) throw new UsageError(`--designs names ${name} twice`);
    designs.push(name as BudgetSplitDesign);
  }
  return designs;
}
