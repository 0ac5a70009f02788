#!/usr/bin/env node
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  JobNames,
  Queues,
  type ServedRecord,
  type ServedRecordJob,
  persistJobOptions,
} from '@adfunnel/contracts';
import { FEATURE_SPEC } from '@adfunnel/features';
import { type JetStreamClient, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import Bull from 'bull';
import { Redis } from 'ioredis';
import { summarize } from './latency-stats.js';

const HELP = `adfunnel served hand-off bench - what making a served record durable costs a request

Usage: npm run bench:served -- [--requests 5000] [--concurrency 1,16] [--slots 3] [--json]

Compares, in one process, the two ways the gateway can hand a served record over durably before it
answers: (a) adding the bull job the logging worker consumes (Queues.served) to Redis, one job per
request or one job for the records that arrive while the previous add is in flight; (b) a NATS
JetStream publish with ack and a Nats-Msg-Id. It starts a redis-server (append-only file, fsync every
second, as compose runs it) and a nats-server with JetStream (file storage) of its own on free ports,
so it neither touches nor is disturbed by a running funnel. Prints per-record latency (p50/p99) and
CPU per record in this process and in the server.
`;

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '1,16' },
    slots: { type: 'string', default: '3' },
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** user + system CPU of a process so far, in ms, from /proc (Linux clock ticks of 10 ms). */
async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function waitFor(what: string, ready: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start within 10 s`);
}

function servedRecord(n: number, slots: number): ServedRecord {
  return {
    requestId: `bench-${n}-${randomUUID().slice(0, 8)}`,
    servedAt: Date.now(),
    userId: `u${n % 10_000}`,
    surface: 'home_feed',
    country: 'US',
    device: 'mobile',
    modelVersion: 'ranking-bench',
    featureDim: FEATURE_SPEC.dim,
    degraded: [],
    ads: Array.from({ length: slots }, (_, slot) => ({
      slot,
      adId: 1 + ((n * 7 + slot) % 3000),
      campaignId: 1 + ((n + slot) % 600),
      advertiserId: 1 + ((n + slot) % 60),
      bidType: 'CPC' as const,
      bid: 1.2,
      price: 0.8,
      pCtr: 0.031,
      pCvr: 0.05,
      features: Array.from({ length: FEATURE_SPEC.dim }, (_, i) => Math.fround(Math.sin(n + i))),
    })),
  };
}

/** Resolves once the record is durable where it was handed; the answer may go out then. */
type HandOff = (record: ServedRecord) => Promise<void>;

function bullPerRequest(queue: Bull.Queue<ServedRecordJob>): HandOff {
  return async (record) => {
    await queue.add(
      JobNames.persistServed,
      { records: [record] },
      persistJobOptions(`served:${record.requestId}`),
    );
  };
}

/**
 * Group commit: a record that arrives while an add is in flight waits for it, then goes out in one
 * job with every other record that arrived meanwhile. No timer: an idle gateway adds at once.
 */
function bullGrouped(queue: Bull.Queue<ServedRecordJob>): HandOff {
  let waiting: { record: ServedRecord; done: (error?: Error) => void }[] = [];
  let inFlight = false;
  const flush = async (): Promise<void> => {
    inFlight = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      const records = batch.map((w) => w.record);
      try {
        await queue.add(
          JobNames.persistServed,
          { records },
          persistJobOptions(`served:${records[0].requestId}`),
        );
        batch.forEach((w) => w.done());
      } catch (error) {
        batch.forEach((w) => w.done(error as Error));
      }
    }
    inFlight = false;
  };
  return (record) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ record, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!inFlight) void flush();
    });
}

function jetStreamPublish(js: JetStreamClient, subject: string): HandOff {
  return async (record) => {
    await js.publish(subject, JSON.stringify(record), { msgID: record.requestId });
  };
}

interface Figures {
  option: string;
  concurrency: number;
  records: number;
  p50Ms: number;
  p99Ms: number;
  clientCpuUsPerRecord: number;
  serverCpuUsPerRecord: number;
}

async function measure(
  option: string,
  handOff: HandOff,
  serverPid: number,
  requests: number,
  concurrency: number,
  slots: number,
): Promise<Figures> {
  const records = Array.from({ length: requests }, (_, n) => servedRecord(n, slots));
  const latencies: number[] = [];
  const serverBefore = await processCpuMs(serverPid);
  const clientBefore = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < records.length) {
      const record = records[next++];
      const started = performance.now();
      await handOff(record);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const client = process.cpuUsage(clientBefore);
  const serverMs = (await processCpuMs(serverPid)) - serverBefore;
  const s = summarize(latencies);
  return {
    option,
    concurrency,
    records: requests,
    p50Ms: s.p50,
    p99Ms: s.p99,
    clientCpuUsPerRecord: (client.user + client.system) / requests,
    serverCpuUsPerRecord: (serverMs * 1000) / requests,
  };
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const requests = positiveInteger('requests', values.requests);
  const slots = positiveInteger('slots', values.slots);
  const levels = values.concurrency.split(',').map((c) => positiveInteger('concurrency', c));
  const dir = await mkdtemp(join(tmpdir(), 'adfunnel-served-bench-'));
  const children: ChildProcess[] = [];
  let queue: Bull.Queue<ServedRecordJob> | undefined;
  let nc: NatsConnection | undefined;
  try {
    const redisPort = await freePort();
    const redisServer = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
      { stdio: 'ignore' },
    );
    children.push(redisServer);
    const natsPort = await freePort();
    const natsServer = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', join(dir, 'jetstream')],
      { stdio: 'ignore' },
    );
    children.push(natsServer);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    await waitFor('redis-server', async () => {
      const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    });
    await waitFor('nats-server', async () => {
      nc = await connect({ servers: `127.0.0.1:${natsPort}`, name: 'adfunnel-served-bench' });
      return true;
    });

    queue = new Bull<ServedRecordJob>(Queues.served, redisUrl, { prefix: 'bench' });
    await queue.isReady();
    const jsm = await jetstreamManager(nc!);
    const subject = 'bench.served';
    await jsm.streams.add({ name: 'BENCH_SERVED', subjects: [subject], storage: StorageType.File });
    const js = jetstream(nc!);

    const options: [string, HandOff, number][] = [
      ['(a) bull add, one job per request', bullPerRequest(queue), redisServer.pid!],
      ['(a) bull add, grouped while in flight', bullGrouped(queue), redisServer.pid!],
      ['(b) JetStream publish + ack', jetStreamPublish(js, subject), natsServer.pid!],
    ];
    // Warm-up: scripts loaded, connections settled, JIT warm.
    for (const [option, handOff, pid] of options) await measure(option, handOff, pid, 1000, 4, slots);

    const figures: Figures[] = [];
    for (const concurrency of levels) {
      process.stdout.write(
        `\nconcurrency ${concurrency}, ${requests} records of ${slots} ads x ${FEATURE_SPEC.dim} features\n` +
          `  ${'option'.padEnd(40)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU µs/rec here'.padStart(16)} ${'server'.padStart(8)}\n`,
      );
      for (const [option, handOff, pid] of options) {
        const f = await measure(option, handOff, pid, requests, concurrency, slots);
        figures.push(f);
        process.stdout.write(
          `  ${option.padEnd(40)} ${f.p50Ms.toFixed(3).padStart(8)} ${f.p99Ms.toFixed(3).padStart(8)} ` +
            `${f.clientCpuUsPerRecord.toFixed(0).padStart(16)} ${f.serverCpuUsPerRecord.toFixed(0).padStart(8)}\n`,
        );
      }
    }
    if (values.json) process.stdout.write(`\n${JSON.stringify(figures, null, 2)}\n`);
  } catch (error) {
    process.stderr.write(`served hand-off bench failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await queue?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
