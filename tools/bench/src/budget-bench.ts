#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BudgetStore, type FrequencyCap, FrequencyCapStore } from '@adfunnel/budget';
import { billingDay } from '@adfunnel/utility';
import { Redis } from 'ioredis';
import { type LatencySummary, summarize } from './latency-stats.js';

const HELP = `adfunnel budget bench - the serve-time cost of budgets and frequency caps, per request

Usage: npm run bench:budget -- [--redis redis://127.0.0.1:6379] [--requests 20000] [--concurrency 1,8]
                               [--campaigns 600] [--winners 3] [--users 10000] [--json]

Replays what one ad request costs in Redis: retrieval's frequency-cap read for the user (HGETALL),
the auction's reservation of its winners (one script call), and the auction's frequency count
(one script call, off the answer's path), with a plain PING in the same process and on the same
connection as the baseline. Keys live under a random prefix and are deleted afterwards, so it can
run beside a funnel. Prints median, p99 and max per call and for the part a request waits for.
`;

const { values } = parseArgs({
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '1,8' },
    campaigns: { type: 'string', default: '600' },
    winners: { type: 'string', default: '3' },
    users: { type: 'string', default: '10000' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function positiveInteger(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}

interface Sample {
  ping: number[];
  capRead: number[];
  reserve: number[];
  count: number[];
  /** Cap read + reservation: what the request waits for. */
  serving: number[];
}

interface Setup {
  budgets: BudgetStore;
  caps: FrequencyCapStore;
  redis: Redis;
  campaignCaps: ReadonlyMap<number, FrequencyCap>;
  campaigns: number;
  winners: number;
  users: number;
}

async function timed<T>(into: number[], call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await call();
  into.push(performance.now() - started);
  return result;
}

/** One simulated ad request: its user, its winners from distinct campaigns. */
async function request(setup: Setup, sample: Sample, n: number): Promise<void> {
  const userId = `u${n % setup.users}`;
  const now = Date.now();
  const day = billingDay(now, 'UTC');
  const first = (n * 7) % setup.campaigns;
  const winners = Array.from({ length: setup.winners }, (_, slot) => ({
    day,
    campaignId: 1 + ((first + slot * 97) % setup.campaigns),
    reservationId: `bench-${n}:${slot}`,
    amountMicros: 4_000,
    budgetMicros: 1_000_000_000,
  }));
  await timed(sample.ping, () => setup.redis.ping());
  const started = performance.now();
  await timed(sample.capRead, () => setup.caps.cappedCampaigns(userId, setup.campaignCaps, now));
  await timed(sample.reserve, () => setup.budgets.reserve(winners, now, 15 * 60_000));
  sample.serving.push(performance.now() - started);
  await timed(sample.count, () =>
    setup.caps.recordServed(
      userId,
      winners.map((w) => ({ campaignId: w.campaignId, windowHours: 24 })),
      now,
    ),
  );
}

async function run(
  setup: Setup,
  requests: number,
  concurrency: number,
): Promise<Record<string, LatencySummary>> {
  const sample: Sample = { ping: [], capRead: [], reserve: [], count: [], serving: [] };
  let next = 0;
  const worker = async () => {
    while (next < requests) await request(setup, sample, next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    'PING (baseline)': summarize(sample.ping),
    'frequency-cap read (retrieval)': summarize(sample.capRead),
    'reserve winners (auction)': summarize(sample.reserve),
    'cap read + reserve (request waits)': summarize(sample.serving),
    'frequency count (after the answer)': summarize(sample.count),
  };
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const requests = positiveInteger('requests', values.requests);
  const campaigns = positiveInteger('campaigns', values.campaigns);
  const winners = positiveInteger('winners', values.winners);
  const users = positiveInteger('users', values.users);
  const levels = values.concurrency.split(',').map((c) => positiveInteger('concurrency', c));
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(values.redis, { maxRetriesPerRequest: 0, connectionName: 'adfunnel-budget-bench' });
  const setup: Setup = {
    budgets: new BudgetStore(redis, prefix),
    caps: new FrequencyCapStore(redis, prefix),
    redis,
    campaignCaps: new Map(Array.from({ length: campaigns }, (_, i) => [i + 1, { max: 10, windowHours: 24 }])),
    campaigns,
    winners,
    users,
  };
  const report: Record<string, unknown>[] = [];
  try {
    await redis.ping();
    // Warm-up: scripts loaded, connection settled, user hashes populated.
    await run(setup, Math.min(2_000, requests), 1);
    for (const concurrency of levels) {
      const figures = await run(setup, requests, concurrency);
      process.stdout.write(`\nconcurrency ${concurrency}, ${requests} requests of ${winners} winners (ms)\n`);
      process.stdout.write(
        `  ${'call'.padEnd(38)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}\n`,
      );
      for (const [call, s] of Object.entries(figures)) {
        process.stdout.write(
          `  ${call.padEnd(38)} ${s.p50.toFixed(3).padStart(7)} ${s.p99.toFixed(3).padStart(7)} ${s.max.toFixed(3).padStart(7)}\n`,
        );
      }
      report.push({ concurrency, requests, winners, figures });
    }
  } catch (error) {
    process.stderr.write(`cannot bench Redis at ${values.redis}: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await deleteKeys(redis, prefix).catch(() => undefined);
    redis.disconnect();
  }
  if (values.json) process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n`);
}

await main();
