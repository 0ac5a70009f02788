#!/usr/bin/env node
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { CatalogAd } from '@adfunnel/catalog';
import {
  type Floor,
  type FloorResult,
  loadCatalogAds,
  measureFloor,
  openFloor,
  userContexts,
} from './in-process-floor.js';
import { runLoad, type LoadRunResult } from './load-driver.js';
import {
  type CpuPerRequest,
  FUNNEL_SERVICES,
  type WatchedProcess,
  clockTicksPerSecond,
  cpuPerRequest,
  findFunnelProcesses,
  sampleCpu,
} from './proc-cpu.js';
import { EMPTY_VOCABULARY, type Vocabulary, firstRequests, vocabularyOf } from './request-mix.js';

const HELP = `adfunnel bench - drive POST /v1/ads on a running funnel and print latency and CPU figures

Usage: npm run bench -- [--url http://127.0.0.1:3100] [--concurrency 8,32] [--duration 20]
                        [--warmup 3] [--users 10000] [--seed 1] [--impressions 1]
                        [--vocabulary catalog|answers] [--sqlite-path var/adfunnel.sqlite]
                        [--floor-requests 2000] [--models-dir models] [--ranking-model ranking]
                        [--activity-prefix adfunnel] [--cpu auto|off] [--idle 5]
                        [--on-shed retry-after|immediate] [--json]

For each concurrency: an idle window (--idle), a warm-up, then a closed loop of that many requests
in flight for --duration seconds. Prints p50/p95/p99 latency, throughput, errors, degraded answers, fill rate and the
per-stage breakdown that the gateway reports (timingsMs), plus a baseline in the same process:
GET /health at the same concurrency (the HTTP path plus its bus and database checks).

Requests: users, surfaces, countries and devices drawn per worker from --seed. Search requests carry
a query of 1-3 words of an ad title and related_items requests a contextAdId, drawn from
--vocabulary: "catalog" (default) reads the ads from the catalog database the funnel serves
(--sqlite-path, default $SQLITE_PATH or var/adfunnel.sqlite; $DATABASE_URL for PostgreSQL);
"answers" uses the ads served during the first warm-up.
--impressions <share>  share of served ads whose impression URL is fired, as a client showing them
                 would (default 1; 0 fires none). Fired without holding up the next request and
                 outside its latency; counted apart. An impression charges a CPM ad, which settles
                 its budget reservation, so without them budgets lock up over a long run (README,
                 Benchmark); CPC and CPA ads keep theirs until clicked or expired (no clicks sent).

Shed requests (503 unavailable, reason overloaded_*, from the gateway's admission control) are
counted apart (shed, shedShare, shed latency), not as errors: requests, latency, throughput and
CPU per request count the answered ones (200). --on-shed retry-after (default) makes a shed
worker wait the Retry-After the gateway sent, as a well-behaved client; immediate sends the next
request at once, as a client that ignores it.

CPU (Linux, --cpu auto): utime+stime from /proc/<pid>/stat, before and after each measured window,
of the five services of the funnel whose gateway listens on --url's port (the gateway and the
services started by the same parent), nats-server and redis-server, as ms of CPU per request per
process and in total (clock ticks of getconf CLK_TCK: 10 ms each; fine over thousands of requests).
nats-server and redis-server are shared with anything else on the machine. The bench client's own
CPU (process.cpuUsage) is reported apart. --idle <seconds> (default 5; 0 skips it) samples the same
processes with no load before each level: their background CPU (catalog reloads, refresh timers,
other users of NATS and Redis), and how much of the per-request figure it would account for.

Floor (--floor-requests N, default 2000; 0 skips it): after each level, the same retrieval,
ranking and auction work for the level's first N requests in this one process, without the bus,
from libs/ad-index, libs/features, libs/models (the model --models-dir/--ranking-model/current names)
and libs/utility, with the users' logged activity read from Redis first (--activity-prefix, default
$USER_ACTIVITY_KEY_PREFIX or adfunnel; $REDIS_URL): its CPU ms per request, and the funnel's CPU
per request over it. tools/bench/README.md says what the floor includes and leaves out.

--json prints only a JSON array, one object per concurrency, on stdout (the text goes to stderr).
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
    impressions: { type: 'string', default: '1' },
    vocabulary: { type: 'string', default: 'catalog' },
    'sqlite-path': { type: 'string', default: process.env['SQLITE_PATH'] ?? 'var/adfunnel.sqlite' },
    'floor-requests': { type: 'string', default: '2000' },
    'models-dir': { type: 'string', default: process.env['MODELS_DIR'] ?? 'models' },
    'ranking-model': { type: 'string', default: process.env['RANKING_MODEL'] ?? 'ranking' },
    'activity-prefix': { type: 'string', default: process.env['USER_ACTIVITY_KEY_PREFIX'] ?? 'adfunnel' },
    cpu: { type: 'string', default: 'auto' },
    idle: { type: 'string', default: '5' },
    'on-shed': { type: 'string', default: 'retry-after' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

/**
 * With --json, stdout carries the JSON alone: every line for people goes to stderr, and so does
 * anything a library prints to stdout (a logger), since stdout's writer is pointed at stderr's.
 */
const text = values.json ? process.stderr : process.stdout;
const writeJson = process.stdout.write.bind(process.stdout);
if (values.json) process.stdout.write = process.stderr.write.bind(process.stderr);

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function positiveNumber(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, got "${raw}"`);
  return n;
}

function nonNegativeInteger(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function share(name: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    fail(`--${name} must be a share from 0 to 1, got "${raw}"`);
  }
  return n;
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw))
    fail(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const loads = () => loadavg().map((l) => Number(l.toFixed(2)));

/** What one concurrency level measured, as --json prints it. */
interface LevelReport {
  concurrency: number;
  /** Answered 200; shed requests are counted apart. */
  requests: number;
  shed: number;
  /** shed / (requests + shed + errors). */
  shedShare: number;
  shedP99Ms: number;
  throughput: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  errors: number;
  errorSamples: string[];
  degraded: number;
  degradedShare: number;
  degradedBy: Record<string, number>;
  fill: number;
  latency: LoadRunResult['latency'];
  stages: LoadRunResult['stages'];
  impressions: LoadRunResult['impressions'];
  baseline: { throughput: number; latency: LoadRunResult['latency'] };
  /** Every sampled process (five services, nats-server, redis-server); null when not sampled. */
  cpuMsPerRequest: number | null;
  /** The five funnel services alone. */
  funnelCpuMsPerRequest: number | null;
  cpuMsPerRequestByProcess: Record<string, number>;
  clientCpuMsPerRequest: number;
  cpuTicks: number | null;
  /** Wall time between the two CPU samples (the load and the impressions' drain), s. */
  cpuWindowSeconds: number;
  /** Background: CPU ms per second of wall time of the sampled processes with no load (--idle). */
  idleCpuMsPerSecond: number | null;
  idleCpuMsPerSecondByProcess: Record<string, number>;
  /** idleCpuMsPerSecond x cpuWindowSeconds / requests: the background's part of cpuMsPerRequest. */
  idleCpuMsPerRequest: number | null;
  ticksPerSecond: number;
  cpuProcesses: WatchedProcess[];
  cpuNotes: string[];
  floorCpuMsPerRequest: number | null;
  /** cpuMsPerRequest / floorCpuMsPerRequest. */
  cpuOverFloor: number | null;
  floor: (Omit<FloorResult, 'latency'> & { p50Ms: number; p99Ms: number; knownUsers: number }) | null;
  loadAverage: { before: number[]; after: number[] };
}

function printRun(r: LoadRunResult, baseline: LoadRunResult): void {
  const l = r.latency;
  const b = baseline.latency;
  text.write(
    `\nconcurrency ${r.concurrency}: ${r.requests} requests answered, ${r.throughput.toFixed(0)} req/s, errors ${r.errors}, ` +
      (r.shed > 0
        ? `shed ${r.shed} (503 in p50 ${f(r.shedLatency.p50)} p99 ${f(r.shedLatency.p99)} ms), `
        : '') +
      `degraded ${r.degraded} (${f((100 * r.degraded) / Math.max(1, r.requests), 1)}%), fill ${(r.fill * 100).toFixed(1)}%\n` +
      (r.degraded > 0
        ? `  degraded answers by cause: ${Object.entries(r.degradedBy)
            .map(([d, n]) => `${d} ${n}`)
            .join(', ')}\n`
        : '') +
      `  latency ms  p50 ${f(l.p50)}  p95 ${f(l.p95)}  p99 ${f(l.p99)}  max ${f(l.max)}\n` +
      `  baseline GET /health: p50 ${f(b.p50)} p99 ${f(b.p99)} ms, ${baseline.throughput.toFixed(0)} req/s; ` +
      `ratio p50 ${(l.p50 / b.p50).toFixed(1)}x, throughput ${(r.throughput / baseline.throughput).toFixed(2)}x\n`,
  );
  const i = r.impressions;
  if (i.fired > 0) {
    text.write(
      `  impressions fired ${i.fired}: ${i.ok} answered 204, ${i.failed} failed; p50 ${f(i.latency.p50)} p99 ${f(i.latency.p99)} ms\n`,
    );
  }
  const stages = Object.entries(r.stages);
  if (stages.length > 0) {
    text.write('  stage (as the gateway measured it)   p50      p95      p99\n');
    for (const [stage, s] of stages) {
      text.write(
        `    ${stage.padEnd(34)} ${f(s.p50).padStart(7)}  ${f(s.p95).padStart(7)}  ${f(s.p99).padStart(7)}\n`,
      );
    }
  }
  for (const e of r.errorSamples) text.write(`  error sample: ${e}\n`);
  for (const e of i.failureSamples) text.write(`  impression failure sample: ${e}\n`);
}

function printCpu(
  cpu: CpuPerRequest | undefined,
  clientMs: number,
  notes: readonly string[],
  ticks: number,
): void {
  if (cpu !== undefined) {
    const parts = Object.entries(cpu.byProcess).map(([name, ms]) => `${name} ${f(ms)}`);
    text.write(
      `  CPU ms per request: total ${f(cpu.total)} (${cpu.ticks} ticks of ${f(1000 / ticks, 0)} ms) = ${parts.join(', ')}; ` +
        `bench client ${f(clientMs)}\n`,
    );
    if (cpu.lost.length > 0)
      text.write(`  CPU not counted (exited during the window): ${cpu.lost.join(', ')}\n`);
  }
  for (const note of notes) text.write(`  CPU note: ${note}\n`);
}

function gatewayPort(url: string): number | undefined {
  const u = new URL(url);
  const local = ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0'].includes(u.hostname);
  if (!local) return undefined;
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
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
  const impressions = share('impressions', values.impressions);
  const vocabularyFrom = oneOf('vocabulary', values.vocabulary, ['catalog', 'answers'] as const);
  const floorRequests = nonNegativeInteger('floor-requests', values['floor-requests']);
  const cpuMode = oneOf('cpu', values.cpu, ['auto', 'off'] as const);
  const idleSeconds = values.idle === '0' ? 0 : positiveNumber('idle', values.idle);
  const onShed = oneOf('on-shed', values['on-shed'], ['retry-after', 'immediate'] as const);
  const levels = values.concurrency.split(',').map((c) => positiveNumber('concurrency', c));
  const database = { databaseUrl: process.env['DATABASE_URL'], sqlitePath: values['sqlite-path'] };
  try {
    const health = await fetch(`${url}/health`);
    if (health.status !== 200) throw new Error(`GET /health answered ${health.status}`);
  } catch (err) {
    process.stderr.write(
      `the gateway at ${url} is not healthy (${(err as Error).message}); start it with npm start\n`,
    );
    process.exit(1);
  }

  // The catalog, for the vocabulary and the floor: the database the funnel serves from.
  let ads: CatalogAd[] | undefined;
  if (vocabularyFrom === 'catalog' || floorRequests > 0) {
    const where = database.databaseUrl === undefined ? `SQLite ${database.sqlitePath}` : 'DATABASE_URL';
    try {
      ads = await loadCatalogAds(database);
    } catch (err) {
      fail(
        `cannot read the catalog from ${where} (${(err as Error).message}); point --sqlite-path (or DATABASE_URL) ` +
          'at the database the funnel serves, or use --vocabulary answers --floor-requests 0',
      );
    }
    if (ads.length === 0) fail(`the catalog in ${where} has no ads; is it the database the funnel serves?`);
    text.write(`catalog: ${ads.length} ads from ${where}\n`);
  }
  let vocabulary: Vocabulary = vocabularyFrom === 'catalog' && ads ? vocabularyOf(ads) : EMPTY_VOCABULARY;
  const seen: { id: number; title: string }[] = [];

  let floor: Floor | undefined;
  if (floorRequests > 0 && ads) {
    floor = await openFloor({ ads, modelsDir: values['models-dir'], modelName: values['ranking-model'] });
    text.write(
      `floor: ${floor.pipeline.indexSize} servable ads indexed, model ${floor.model.name}@${floor.model.version}\n`,
    );
  }
  const ticksPerSecond = clockTicksPerSecond();
  const port = gatewayPort(url);

  const report: LevelReport[] = [];
  try {
    for (const [level, concurrency] of levels.entries()) {
      const notes: string[] = [];
      let processes: WatchedProcess[] = [];
      if (cpuMode === 'auto') {
        if (port === undefined) notes.push(`${url} is not on this machine: no CPU sampled`);
        else {
          const found = findFunnelProcesses(port);
          processes = found.processes;
          notes.push(...found.notes);
        }
      }
      let idle: CpuPerRequest | undefined;
      if (processes.length > 0 && idleSeconds > 0) {
        const quiet = sampleCpu(processes);
        await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
        // Divided by seconds instead of requests: ms of CPU per second of wall time.
        idle = cpuPerRequest(processes, quiet, sampleCpu(processes), idleSeconds, ticksPerSecond);
      }
      const warmup = await runLoad({
        url,
        concurrency,
        durationMs: warmupMs,
        users,
        seed,
        impressions,
        vocabulary: () => vocabulary,
        onServedAd: vocabularyFrom === 'answers' && level === 0 ? (ad) => seen.push(ad) : undefined,
      });
      if (vocabularyFrom === 'answers' && level === 0) {
        vocabulary = vocabularyOf(seen);
        text.write(
          `vocabulary: ${vocabulary.adIds.length} ads served during the warm-up (${warmup.requests} requests)\n`,
        );
      }
      const baseline = await runLoad({
        url,
        concurrency,
        durationMs: Math.min(durationMs, 5000),
        users,
        seed,
        baselinePath: '/health',
      });

      const loadBefore = loads();
      const before = sampleCpu(processes);
      const window0 = performance.now();
      const client0 = process.cpuUsage();
      const run = await runLoad({
        url,
        concurrency,
        durationMs,
        users,
        seed,
        impressions,
        onShed,
        vocabulary: () => vocabulary,
      });
      const clientCpu = process.cpuUsage(client0);
      const after = sampleCpu(processes);
      const windowSeconds = (performance.now() - window0) / 1000;
      const loadAfter = loads();
      const cpu =
        processes.length > 0
          ? cpuPerRequest(processes, before, after, run.requests, ticksPerSecond)
          : undefined;
      if (cpu !== undefined && cpu.ticks < 1000) {
        notes.push(
          `only ${cpu.ticks} ticks counted: each tick is ${f(1000 / ticksPerSecond, 0)} ms, so a longer --duration narrows the figures`,
        );
      }
      const clientMs = (clientCpu.user + clientCpu.system) / 1000 / Math.max(1, run.requests);
      const idleMsPerRequest =
        idle === undefined || run.requests === 0 ? null : (idle.total * windowSeconds) / run.requests;
      printRun(run, baseline);
      printCpu(cpu, clientMs, notes, ticksPerSecond);
      if (idle !== undefined) {
        const parts = Object.entries(idle.byProcess).map(([name, ms]) => `${name} ${f(ms, 1)}`);
        text.write(
          `  idle for ${idleSeconds} s before the level: ${f(idle.total, 1)} CPU ms/s (${parts.join(', ')}), ` +
            `about ${f(idleMsPerRequest ?? NaN)} ms of each request's figure at that rate\n`,
        );
      }

      let floorReport: LevelReport['floor'] = null;
      if (floor !== undefined) {
        const requests = firstRequests(floorRequests, concurrency, seed, users, vocabulary);
        const contexts = await userContexts(requests, {
          redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
          prefix: values['activity-prefix'],
        });
        if (contexts.note !== undefined) notes.push(contexts.note);
        const measured = await measureFloor(floor, requests, contexts.users, Math.min(500, floorRequests));
        const { latency, ...rest } = measured;
        floorReport = { ...rest, p50Ms: latency.p50, p99Ms: latency.p99, knownUsers: contexts.known };
        text.write(
          `  floor (one process, no bus): ${f(measured.cpuMsPerRequest)} CPU ms per request over ${measured.requests} requests ` +
            `(${contexts.known} of ${contexts.users.size} users known), ${f(measured.meanCandidates, 0)} candidates, ` +
            `fill ${(measured.fill * 100).toFixed(1)}%, p50 ${f(latency.p50)} p99 ${f(latency.p99)} ms` +
            (cpu === undefined
              ? '\n'
              : `; funnel CPU over floor ${f(cpu.total / measured.cpuMsPerRequest, 1)}x\n`),
        );
        if (contexts.note !== undefined) text.write(`  floor note: ${contexts.note}\n`);
      }

      // Services co-located in one process are reported under their names joined by +.
      const funnelMs =
        cpu === undefined
          ? null
          : Object.entries(cpu.byProcess)
              .filter(([name]) =>
                name.split('+').some((s) => (FUNNEL_SERVICES as readonly string[]).includes(s)),
              )
              .reduce((sum, [, ms]) => sum + ms, 0);
      const floorMs = floorReport?.cpuMsPerRequest ?? null;
      report.push({
        concurrency,
        requests: run.requests,
        shed: run.shed,
        shedShare: run.shed / Math.max(1, run.requests + run.shed + run.errors),
        shedP99Ms: run.shedLatency.p99,
        throughput: run.throughput,
        p50Ms: run.latency.p50,
        p95Ms: run.latency.p95,
        p99Ms: run.latency.p99,
        errors: run.errors,
        errorSamples: run.errorSamples,
        degraded: run.degraded,
        degradedShare: run.requests === 0 ? 0 : run.degraded / run.requests,
        degradedBy: run.degradedBy,
        fill: run.fill,
        latency: run.latency,
        stages: run.stages,
        impressions: run.impressions,
        baseline: { throughput: baseline.throughput, latency: baseline.latency },
        cpuMsPerRequest: cpu?.total ?? null,
        funnelCpuMsPerRequest: funnelMs,
        cpuMsPerRequestByProcess: cpu?.byProcess ?? {},
        clientCpuMsPerRequest: clientMs,
        cpuTicks: cpu?.ticks ?? null,
        cpuWindowSeconds: windowSeconds,
        idleCpuMsPerSecond: idle?.total ?? null,
        idleCpuMsPerSecondByProcess: idle?.byProcess ?? {},
        idleCpuMsPerRequest: idleMsPerRequest,
        ticksPerSecond,
        cpuProcesses: processes,
        cpuNotes: notes,
        floorCpuMsPerRequest: floorMs,
        cpuOverFloor: cpu !== undefined && floorMs !== null ? cpu.total / floorMs : null,
        floor: floorReport,
        loadAverage: { before: loadBefore, after: loadAfter },
      });
    }
  } finally {
    await floor?.close();
  }
  if (values.json) writeJson(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
