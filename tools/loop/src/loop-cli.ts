#!/usr/bin/env node
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { preflight } from '@adfunnel/funnel';
import { Logger } from '@nestjs/common';
import { ClosedLoop, type LoopOptions } from './closed-loop.js';
import { buildReport, formatReport } from './loop-report.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Fine-tuning the serving model on one phase's logs (--fine-tune-lr, --fine-tune-epochs). */
const FINE_TUNE_LR = 2e-3;
const FINE_TUNE_EPOCHS = 8;

const USAGE = `Usage: node tools/loop/dist/loop-cli.js run [options]

The closed loop in one command, on a funnel of its own (temporary SQLite catalog and model
directory, own bus namespace on the shared NATS, own ports and queue prefix; the repository's
models/ is not touched):

  1. start the five services with the cold-start ranking model (models/ranking/cold-start) as current
  2. drive simulated traffic through the gateway (tools/sim)
  3. export the served-ad log with its impression, click and conversion labels (tools/training)
  4. train a model on it (train_ranker.py, position bias learnt beside it), from scratch or fine-tuning
     the weights of the model that served step 2 (--ranking-init)
  5. deploy it to the running ranking service by hot reload (POST /admin/model/reload)
  6. drive the same traffic again (same seed)
  7. print before and after side by side, with a CI on the CTR change and a paired logloss test on
     held-out logs; then reload ten times, alternating the two versions, reading the ranking
     process's memory after each
Needs the apps and tools built (npm run loop builds them), Redis, NATS and a python3 with torch
(Debian: apt-get install -y python3-torch, which installs for /usr/bin/python3).

Options:
  --requests N          requests per traffic run (default 6000)
  --concurrency N       requests in flight (default 8)
  --seed N              traffic seed, the same for both runs (default 1)
  --users N             simulated population (default 2000)
  --day-requests N      visits per simulated day (default 4 x users)
  --slots N             ad slots per request (default 3)
  --oracle-sample F     share of requests measured against the oracle (default 0.2)
  --organic-per-visit F mean engagements with the product's own content per visit, reported through
                        POST /v1/activity (default 2; 0: users are known only by their ad events)
  --spec-seed N         marketplace seed (default 42)
  --spec-advertisers N  advertisers (default 60)
  --spec-ads N          ads (default 3000)
  --spec-users N        users in the catalog (default 2000)
  --epochs N            ranking training epochs from scratch (default 8)
  --ranking-init FROM   scratch (default): train from random weights on the first run's logs alone;
                        serving: fine-tune the model that served the first run (its model.pt,
                        train_ranker.py --init-from; from scratch, saying so, when it has none)
  --fine-tune-lr F      learning rate of the fine-tuning (default ${FINE_TUNE_LR})
  --fine-tune-epochs N  epochs of the fine-tuning (default ${FINE_TUNE_EPOCHS})
  --two-tower-epochs N  two-tower retrieval training epochs (default 12)
  --reload-cycles N     reloads for the memory measurement (default 10; 0 skips it)
  --base-port N         gateway port; the others follow (+1..+4) (default 4300)
  --nats URL            NATS (default nats://127.0.0.1:4222); the run talks in a bus namespace of its own
  --redis URL           Redis (default redis://127.0.0.1:6379)
  --python PATH         Python with torch and numpy (default /usr/bin/python3)
  --json PATH           also write the full report as JSON
  --keep                keep the working directory (catalog, exported data, models, sim summaries)
  --start-model NAME    the pointer under models/ranking that serves the first run (default cold-start;
                        current: the repository's model)
  --deploy-towers WHEN  better (default): the trained towers serve the second run only when their held-out
                        recall@100 beats the no-model heuristic's; always: they serve regardless
  --funnel-env K=V      a variable for the funnel's services, repeatable (e.g. AUCTION_UTILITY_WEIGHTS=hide=0
                        to compare utility weights on the same traffic); the run's own isolation wins
  -h, --help

Exit status: 0 when the loop ran, 1 when a step failed, 2 on a usage error.`;

function fail(message: string): never {
  process.stderr.write(`loop: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** `--funnel-env K=V` pairs; a variable named twice is a usage error. */
function funnelEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at);
    if (at < 1 || !/^[A-Z][A-Z0-9_]*$/.test(key)) {
      fail(`--funnel-env expects KEY=VALUE with an upper-case variable name, got "${pair}"`);
    }
    if (key in env) fail(`--funnel-env names ${key} twice`);
    env[key] = pair.slice(at + 1);
  }
  return env;
}

function integer(values: Record<string, unknown>, name: string, min: number): number {
  const text = String(values[name]);
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${text}"`);
  return n;
}

function rankingInitOf(text: unknown): 'serving' | 'scratch' {
  if (text === 'serving' || text === 'scratch') return text;
  fail(`--ranking-init must be serving or scratch, got "${String(text)}"`);
}

function deployTowersOf(text: unknown): 'better' | 'always' {
  if (text === 'better' || text === 'always') return text;
  fail(`--deploy-towers must be better or always, got "${String(text)}"`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'run') fail(`unknown command "${command}"`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        requests: { type: 'string', default: '6000' },
        concurrency: { type: 'string', default: '8' },
        seed: { type: 'string', default: '1' },
        users: { type: 'string', default: '2000' },
        'day-requests': { type: 'string' },
        slots: { type: 'string', default: '3' },
        'oracle-sample': { type: 'string', default: '0.2' },
        'spec-seed': { type: 'string', default: '42' },
        'spec-advertisers': { type: 'string', default: '60' },
        'spec-ads': { type: 'string', default: '3000' },
        'spec-users': { type: 'string', default: '2000' },
        epochs: { type: 'string', default: '8' },
        'ranking-init': { type: 'string', default: 'scratch' },
        'fine-tune-lr': { type: 'string', default: String(FINE_TUNE_LR) },
        'fine-tune-epochs': { type: 'string', default: String(FINE_TUNE_EPOCHS) },
        'two-tower-epochs': { type: 'string', default: '12' },
        'reload-cycles': { type: 'string', default: '10' },
        'organic-per-visit': { type: 'string', default: '2' },
        'base-port': { type: 'string', default: '4300' },
        nats: { type: 'string', default: 'nats://127.0.0.1:4222' },
        redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
        python: { type: 'string', default: '/usr/bin/python3' },
        json: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'funnel-env': { type: 'string', multiple: true, default: [] },
        'start-model': { type: 'string', default: 'cold-start' },
        'deploy-towers': { type: 'string', default: 'better' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const users = integer(values, 'users', 1);
  const specUsers = integer(values, 'spec-users', 1);
  if (users > specUsers) fail(`--users (${users}) cannot exceed --spec-users (${specUsers})`);
  const oracleSample = Number(values['oracle-sample']);
  if (!(oracleSample > 0 && oracleSample <= 1)) {
    fail(
      `--oracle-sample must be within (0, 1]: the before/after ranking metrics need it, got "${values['oracle-sample']}"`,
    );
  }
  const organicPerVisit = Number(values['organic-per-visit']);
  if (!(organicPerVisit >= 0 && organicPerVisit <= 50)) {
    fail(`--organic-per-visit must be a mean from 0 to 50, got "${values['organic-per-visit']}"`);
  }
  const fineTuneLr = Number(values['fine-tune-lr']);
  if (!(fineTuneLr > 0 && fineTuneLr < 1)) {
    fail(`--fine-tune-lr must be within (0, 1), got "${values['fine-tune-lr']}"`);
  }
  const slots = integer(values, 'slots', 1);
  if (slots > 10) fail(`--slots must be at most 10, got ${slots}`);
  const options: LoopOptions = {
    root: ROOT,
    spec: {
      seed: integer(values, 'spec-seed', 0),
      advertisers: integer(values, 'spec-advertisers', 1),
      campaignsPerAdvertiser: 3,
      ads: integer(values, 'spec-ads', 1),
      users: specUsers,
    },
    traffic: {
      requests: integer(values, 'requests', 50),
      concurrency: integer(values, 'concurrency', 1),
      seed: integer(values, 'seed', 0),
      users,
      dayRequests: values['day-requests'] === undefined ? 4 * users : integer(values, 'day-requests', 1),
      slots,
      oracleSample,
      organicPerVisit,
    },
    epochs: integer(values, 'epochs', 1),
    rankingInit: rankingInitOf(values['ranking-init']),
    fineTune: { lr: fineTuneLr, epochs: integer(values, 'fine-tune-epochs', 1) },
    twoTowerEpochs: integer(values, 'two-tower-epochs', 1),
    deployTowers: deployTowersOf(values['deploy-towers']),
    reloadCycles: integer(values, 'reload-cycles', 0),
    basePort: integer(values, 'base-port', 1024),
    natsUrl: values.nats,
    redisUrl: values.redis,
    python: values.python,
    keep: values.keep,
    funnelEnv: funnelEnv(values['funnel-env']),
    startModel: values['start-model'],
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const torch = spawnSync(options.python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (torch.status !== 0) {
    throw new Error(
      `${options.python} cannot import torch and numpy (${(torch.stderr || torch.error?.message || '').trim().split('\n').pop()}); ` +
        'install them with: apt-get install -y python3-torch python3-numpy, or pass --python',
    );
  }
  const { problems } = await preflight({ redisUrl: options.redisUrl, natsUrl: options.natsUrl });
  if (problems.length > 0) {
    throw new Error(
      problems
        .map(
          (p) => `${p.dependency} is not reachable at ${p.url} (${p.reason}); start it with: ${p.howToStart}`,
        )
        .join('\n'),
    );
  }
  Logger.overrideLogger(['error', 'warn']);
  const result = await new ClosedLoop(options).run();
  const report = buildReport(result);
  process.stdout.write(`\n${formatReport(report)}\n`);
  if (values.json !== undefined) {
    await writeFile(resolve(values.json), `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`report written to ${resolve(values.json)}\n`);
  }
  if (options.keep) process.stderr.write(`working directory kept: ${result.workDir}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`loop: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
