#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runLoad, type LoadRunResult } from './load-driver.js';

const HELP = `adfunnel bench - drive POST /v1/ads on a running funnel and print latency figures

Usage: npm run bench -- [--url http://127.0.0.1:3100] [--concurrency 8,32] [--duration 20]
                        [--warmup 3] [--users 10000] [--seed 1] [--json]

For each concurrency: a warm-up, then a closed loop of that many requests in flight for --duration
seconds. Prints p50/p95/p99 latency, throughput, errors, fill rate and the per-stage breakdown that
the gateway reports (timingsMs), plus a baseline in the same process: GET /health at the same
concurrency (the HTTP path plus its bus and database checks). --json prints the figures as JSON as well.
Start the funnel first (npm start).
`;

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3100' },
    concurrency: { type: 'string', default: '8,32' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    users: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function positiveNumber(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive number, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');

function printRun(label: string, r: LoadRunResult, baseline?: LoadRunResult): void {
  const l = r.latency;
  process.stdout.write(
    `\n${label}: ${r.requests} requests, ${r.throughput.toFixed(0)} req/s, errors ${r.errors}, ` +
      `degraded ${r.degraded}, fill ${(r.fill * 100).toFixed(1)}%\n` +
      `  latency ms  p50 ${f(l.p50)}  p95 ${f(l.p95)}  p99 ${f(l.p99)}  max ${f(l.max)}\n`,
  );
  if (baseline) {
    const b = baseline.latency;
    process.stdout.write(
      `  baseline GET /health: p50 ${f(b.p50)} p99 ${f(b.p99)} ms, ${baseline.throughput.toFixed(0)} req/s; ` +
        `ratio p50 ${(l.p50 / b.p50).toFixed(1)}x, throughput ${(r.throughput / baseline.throughput).toFixed(2)}x\n`,
    );
  }
  const stages = Object.entries(r.stages);
  if (stages.length > 0) {
    process.stdout.write('  stage (as the gateway measured it)   p50      p95      p99\n');
    for (const [stage, s] of stages) {
      process.stdout.write(
        `    ${stage.padEnd(34)} ${f(s.p50).padStart(7)}  ${f(s.p95).padStart(7)}  ${f(s.p99).padStart(7)}\n`,
      );
    }
  }
  for (const e of r.errorSamples) process.stdout.write(`  error sample: ${e}\n`);
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const url = values.url.replace(/\/+$/, '');
  const durationMs = positiveNumber('duration', values.duration) * 1000;
  const warmupMs = positiveNumber('warmup', values.warmup) * 1000;
  const users = positiveNumber('users', values.users);
  const seed = positiveNumber('seed', values.seed);
  const levels = values.concurrency.split(',').map((c) => positiveNumber('concurrency', c));
  try {
    const health = await fetch(`${url}/health`);
    if (health.status !== 200) throw new Error(`GET /health answered ${health.status}`);
  } catch (err) {
    process.stderr.write(
      `the gateway at ${url} is not healthy (${(err as Error).message}); start it with npm start\n`,
    );
    process.exit(1);
  }
  const report: Record<string, unknown>[] = [];
  for (const concurrency of levels) {
    await runLoad({ url, concurrency, durationMs: warmupMs, users, seed });
    const baseline = await runLoad({
      url,
      concurrency,
      durationMs: Math.min(durationMs, 5000),
      users,
      seed,
      baselinePath: '/health',
    });
    const run = await runLoad({ url, concurrency, durationMs, users, seed });
    printRun(`concurrency ${concurrency}`, run, baseline);
    report.push({ ...run, baseline: { throughput: baseline.throughput, latency: baseline.latency } });
  }
  if (values.json) process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n`);
}

await main();
