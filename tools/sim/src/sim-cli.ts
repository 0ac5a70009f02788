#!/usr/bin/env node
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommonEnv, loadConfig, redactUrlCredentials } from '@adfunnel/platform';
import { UserActivityEnv } from '@adfunnel/user-activity';
import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { readAdvertiserApiKeys } from './advertiser-api-keys.js';
import { BudgetSplitStudy } from './budget-split/budget-split-study.js';
import { formatBudgetSplitStudy } from './budget-split/budget-split-table.js';
import {
  SIM_BUDGET_SPLIT_HELP,
  type SimBudgetSplitArgs,
  parseSimBudgetSplitArgs,
} from './budget-split/sim-budget-split-args.js';
import { runCompare } from './compare/compare-command.js';
import { formatPacingDay } from './day/pacing-day-table.js';
import { SIM_DAY_HELP, type SimDayArgs, parseSimDayArgs } from './day/sim-day-args.js';
import { SimulatedDay } from './day/simulated-day.js';
import { HttpFunnelClient } from './funnel-client.js';
import { MarketplaceOracle } from './oracle/marketplace-oracle.js';
import { ProgressBar } from './progress-bar.js';
import { SIM_CLI_HELP, type SimRunArgs, UsageError, parseSimCliArgs } from './sim-cli-args.js';
import { type ActivitySource, NatsStageProbe, type StageProbe } from './stage-probe.js';
import { readRunCalibration } from './run-calibration.js';
import { formatSummaryTable, oracleWarnings } from './summary-table.js';
import { TrafficDriver } from './traffic-driver.js';

const SimCliEnv = z.object({
  NATS_URL: CommonEnv.NATS_URL,
  REDIS_URL: CommonEnv.REDIS_URL,
  BUS_NAMESPACE: CommonEnv.BUS_NAMESPACE,
  /** Opens logging's calibration monitor, read for the run's requests after it. */
  ADMIN_TOKEN: CommonEnv.ADMIN_TOKEN,
  /** Where the funnel keeps users' activity, so the oracle asks retrieval about users as the gateway does. */
  USER_ACTIVITY_KEY_PREFIX: UserActivityEnv.USER_ACTIVITY_KEY_PREFIX,
  USER_ACTIVITY_HALF_LIFE_MS: UserActivityEnv.USER_ACTIVITY_HALF_LIFE_MS,
});

/** Where `npm start` runs logging (LOGGING_PORT's default); --logging names another. */
const DEFAULT_LOGGING_URL = 'http://127.0.0.1:3104';

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'day') return mainDay(argv.slice(1));
  if (argv[0] === 'compare') return runCompare(argv.slice(1), stdout, stderr);
  if (argv[0] === 'budget-split') return mainBudgetSplit(argv.slice(1));
  let args;
  try {
    args = parseSimCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sim: ${error.message}\nRun \`npm run sim -- --help\` for usage.\n`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(SIM_CLI_HELP);
    return 0;
  }
  // The bus client logs through Nest; only its errors belong on a CLI's stderr.
  Logger.overrideLogger(['error', 'fatal']);
  try {
    const env = loadConfig(SimCliEnv);
    await run(args, env.NATS_URL, env.BUS_NAMESPACE, env.ADMIN_TOKEN, {
      redisUrl: env.REDIS_URL,
      prefix: env.USER_ACTIVITY_KEY_PREFIX,
      halfLifeMs: env.USER_ACTIVITY_HALF_LIFE_MS,
    });
    return 0;
  } catch (error) {
    process.stderr.write(`\nsim run failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const stdout = (text: string) => void process.stdout.write(text);
const stderr = (text: string) => void process.stderr.write(text);

async function mainDay(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseSimDayArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sim day: ${error.message}\nRun \`npm run sim -- day --help\` for usage.\n`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(SIM_DAY_HELP);
    return 0;
  }
  Logger.overrideLogger(['error', 'fatal']);
  try {
    const env = loadConfig(SimCliEnv);
    await runDay(args, args.nats ?? env.NATS_URL, args.redis ?? env.REDIS_URL);
    return 0;
  } catch (error) {
    process.stderr.write(`\nsim day failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function runDay(args: SimDayArgs, natsUrl: string, redisUrl: string): Promise<void> {
  const log = (line: string) => void process.stderr.write(`sim day: ${line}\n`);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  let lastProgress = 0;
  const day = new SimulatedDay({
    root,
    spec: args.spec,
    population: args.population,
    historyRequests: args.historyRequests,
    dayRequests: args.dayRequests,
    historySeconds: args.historySeconds,
    daySeconds: args.daySeconds,
    concurrency: args.concurrency,
    slots: args.slots,
    organicPerVisit: args.organicPerVisit,
    seed: args.seed,
    limitedShare: args.limitedShare,
    budgetFraction: args.budgetFraction,
    sliceSeconds: args.sliceSeconds,
    bidTypes: args.bidTypes,
    pacing: args.pacing,
    basePort: args.basePort,
    natsUrl,
    redisUrl,
    keep: args.keep,
    log,
    ...(args.progress
      ? {
          onProgress: (phase: string, completed: number) => {
            if (Date.now() - lastProgress < 10_000) return;
            lastProgress = Date.now();
            log(`${phase}: ${completed} visits done`);
          },
        }
      : {}),
  });
  const result = await day.run();
  process.stdout.write(formatPacingDay(result));
  if (args.json !== undefined) {
    const json = `${JSON.stringify(result, null, 2)}\n`;
    if (args.json === '-') process.stdout.write(json);
    else {
      await writeFile(args.json, json);
      log(`report written to ${args.json}`);
    }
  }
  if (args.keep) log(`catalog and ledger kept in ${result.workDir}`);
}

async function mainBudgetSplit(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseSimBudgetSplitArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `sim budget-split: ${error.message}\nRun \`npm run sim -- budget-split --help\` for usage.\n`,
    );
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(SIM_BUDGET_SPLIT_HELP);
    return 0;
  }
  Logger.overrideLogger(['error', 'fatal']);
  try {
    const env = loadConfig(SimCliEnv);
    await runBudgetSplit(args, args.nats ?? env.NATS_URL, args.redis ?? env.REDIS_URL);
    return 0;
  } catch (error) {
    process.stderr.write(
      `\nsim budget-split failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}

async function runBudgetSplit(args: SimBudgetSplitArgs, natsUrl: string, redisUrl: string): Promise<void> {
  const log = (line: string) => void process.stderr.write(`sim budget-split: ${line}\n`);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const study = new BudgetSplitStudy({
    root,
    spec: args.spec,
    population: args.population,
    requests: args.requests,
    daySeconds: args.daySeconds,
    budgetUsd: args.budgetUsd,
    controlSlots: args.controlSlots,
    treatmentSlots: args.treatmentSlots,
    designs: args.designs,
    concurrency: args.concurrency,
    slots: Math.max(args.controlSlots, args.treatmentSlots),
    organicPerVisit: args.organicPerVisit,
    seed: args.seed,
    basePort: args.basePort,
    natsUrl,
    redisUrl,
    keep: args.keep,
    log,
  });
  const result = await study.run();
  process.stdout.write(formatBudgetSplitStudy(result));
  if (args.json !== undefined) {
    const json = `${JSON.stringify(result, null, 2)}\n`;
    if (args.json === '-') process.stdout.write(json);
    else {
      await writeFile(args.json, json);
      log(`result written to ${args.json}`);
    }
  }
}

async function run(
  args: SimRunArgs,
  envNatsUrl: string,
  busNamespace: string,
  adminToken: string | undefined,
  activity: ActivitySource,
): Promise<void> {
  await checkGateway(args.gateway);
  const log = (line: string) => void process.stderr.write(`sim: ${line}\n`);
  const apiKeys = await readAdvertiserApiKeys(args.apiKeys);
  log(`conversions posted with the API keys of ${apiKeys.size} advertisers from ${args.apiKeys}`);
  const started = performance.now();
  const oracle = MarketplaceOracle.build(args.spec);
  log(
    `marketplace seed ${args.spec.seed} (${args.spec.ads} ads) loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  let probe: StageProbe | null = null;
  if (args.oracleSample > 0) {
    const natsUrl = args.nats ?? envNatsUrl;
    probe = await NatsStageProbe.connect(natsUrl, 5000, busNamespace, activity);
    log(
      `oracle: ${(args.oracleSample * 100).toFixed(0)}% of requests also asked of retrieval and ranking over ${redactUrlCredentials(natsUrl)}, ` +
        (busNamespace === '' ? 'no BUS_NAMESPACE' : `BUS_NAMESPACE ${busNamespace}`),
    );
  }
  const bar = new ProgressBar(process.stderr, { requests: args.maxRequests, durationMs: args.durationMs });
  const runId = randomBytes(4).toString('hex');
  const driver = new TrafficDriver(
    {
      spec: args.spec,
      seed: args.seed,
      population: args.population,
      arrivalsPerDay: args.arrivalsPerDay,
      startAt: args.startHour * 3600,
      maxRequests: args.maxRequests,
      durationMs: args.durationMs,
      rate: args.rate,
      concurrency: args.concurrency,
      slots: args.slots,
      oracleSample: args.oracleSample,
      organicPerVisit: args.organicPerVisit,
      retrievalLimit: args.retrievalLimit,
      gateway: args.gateway,
      runId,
    },
    new HttpFunnelClient({
      gatewayUrl: args.gateway,
      ...(args.logging === undefined ? {} : { loggingUrl: args.logging }),
      apiKeys,
    }),
    oracle,
    probe,
    args.progress ? (p) => bar.update(p) : undefined,
  );
  const interrupt = () => {
    log('interrupted: finishing the requests in flight (Ctrl-C again to abort)');
    driver.stop();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  try {
    const summary = await driver.run();
    bar.finish();
    if (adminToken !== undefined) {
      const loggingUrl = args.logging ?? DEFAULT_LOGGING_URL;
      try {
        summary.calibration = await readRunCalibration({
          loggingUrl,
          adminToken,
          requestIdPrefix: `sim-${runId}-`,
          impressions: summary.impressions,
        });
      } catch (error) {
        log(`calibration: logging's monitor at ${loggingUrl} did not answer: ${(error as Error).message}`);
      }
    } else log("calibration: not read (set ADMIN_TOKEN to read logging's calibration monitor for this run)");
    process.stdout.write(formatSummaryTable(summary));
    for (const line of oracleWarnings(summary.oracle)) log(line);
    if (args.json !== undefined) {
      const json = `${JSON.stringify(summary, null, 2)}\n`;
      if (args.json === '-') process.stdout.write(json);
      else {
        await writeFile(args.json, json);
        log(`summary written to ${args.json}`);
      }
    }
  } finally {
    bar.finish();
    process.removeListener('SIGINT', interrupt);
    await probe?.close();
  }
}

async function checkGateway(gateway: string): Promise<void> {
  try {
    const res = await fetch(`${gateway}/health`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`GET /health answered ${res.status}`);
  } catch (error) {
    const cause = (error as Error).cause;
    const reason =
      cause instanceof Error ? `${(error as Error).message}: ${cause.message}` : (error as Error).message;
    throw new Error(
      `the gateway at ${gateway} is not healthy (${reason}); start the funnel with npm start, or pass --gateway`,
      { cause: error },
    );
  }
}

process.exitCode = await main(process.argv.slice(2));
