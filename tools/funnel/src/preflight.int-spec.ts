import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { RedisProbe } from '@adfunnel/platform';
import { Redis } from 'ioredis';
import { formatPreflight, preflight } from './preflight.js';

const NATS_URL = 'nats://127.0.0.1:4222';
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** A redis-server of the test's own, on a free port and in a scratch directory, started with `args`. */
class ScratchRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'adfunnel-preflight-'));
  url = '';

  constructor(private readonly args: string[]) {}

  async start(): Promise<void> {
    const port = await freePort();
    this.url = `redis://127.0.0.1:${port}`;
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.args],
      { stdio: 'ignore' },
    );
    this.child = child;
    const redis = new Redis(this.url, {
      lazyConnect: true,
      retryStrategy: () => 50,
      maxRetriesPerRequest: null,
    });
    try {
      await redis.ping();
    } finally {
      redis.disconnect();
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function probeOf(redisUrl: string): Promise<Record<string, unknown>> {
  const sut = new RedisProbe({ REDIS_URL: redisUrl });
  try {
    return await sut.check();
  } finally {
    await sut.onApplicationShutdown();
  }
}

describe('preflight and the Redis health probe', () => {
  describe('a Redis without AOF', () => {
    const redis = new ScratchRedis(['--appendonly', 'no']);
    beforeAll(() => redis.start());
    afterAll(() => redis.stop());

    it('is up in /health, reported as not persisting, with a warning', async () => {
      const health = await probeOf(redis.url);

      expect(health).toEqual({
        rttMs: expect.any(Number),
        persistence: 'none',
        evictionPolicy: 'noeviction',
        warning: expect.stringMatching(/^Redis does not persist \(appendonly no, no RDB snapshots\)/),
      });
    });

    it('makes the preflight warn what a crash loses and how to turn AOF on, without stopping the start', async () => {
      const checked = await preflight({ redisUrl: redis.url, natsUrl: NATS_URL });
      const printed = formatPreflight(checked, redis.url).replace(ANSI, '');
      const port = new URL(redis.url).port;

      expect(checked.problems).toEqual([]);
      expect(checked.redisPersistence?.persistence).toBe('none');
      expect(printed).toContain(`WARNING: Redis at ${redis.url} DOES NOT PERSIST (no AOF, no RDB snapshots;`);
      expect(printed).toContain(
        'every queued event and served record waiting in Redis, and the budget counters',
      );
      expect(printed).toContain(`redis-cli -p ${port} config set appendonly yes`);
      expect(printed).toContain(`redis-cli -p ${port} config set appendfsync everysec`);
      expect(printed).toContain(
        'redis-server --appendonly yes --appendfsync everysec --maxmemory-policy noeviction',
      );
    });

    it('reports a Redis that may evict queued jobs', async () => {
      const admin = new Redis(redis.url);
      try {
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
        const health = await probeOf(redis.url);

        expect(health['evictionPolicy']).toBe('allkeys-lru');
        expect(health['warning']).toMatch(/maxmemory-policy is allkeys-lru, not noeviction/);
      } finally {
        await admin.config('SET', 'maxmemory-policy', 'noeviction');
        admin.disconnect();
      }
    });
  });

  describe('a Redis with AOF fsynced every second', () => {
    const redis = new ScratchRedis(['--appendonly', 'yes', '--appendfsync', 'everysec']);
    beforeAll(() => redis.start());
    afterAll(() => redis.stop());

    it('is up in /health as aof-everysec, without a warning', async () => {
      const health = await probeOf(redis.url);

      expect(health).toEqual({
        rttMs: expect.any(Number),
        persistence: 'aof-everysec',
        evictionPolicy: 'noeviction',
      });
    });

    it('makes the preflight say that Redis persists, and nothing louder', async () => {
      const checked = await preflight({ redisUrl: redis.url, natsUrl: NATS_URL });
      const printed = formatPreflight(checked, redis.url);

      expect(checked.problems).toEqual([]);
      expect(printed).toBe(
        `Redis at ${redis.url} persists: AOF, fsync every second; maxmemory-policy noeviction.\n`,
      );
    });
  });

  describe('a managed Redis that refuses CONFIG', () => {
    const withAof = new ScratchRedis(['--appendonly', 'yes', '--rename-command', 'CONFIG', '']);
    const withoutAof = new ScratchRedis(['--appendonly', 'no', '--rename-command', 'CONFIG', '']);
    beforeAll(() => Promise.all([withAof.start(), withoutAof.start()]));
    afterAll(() => Promise.all([withAof.stop(), withoutAof.stop()]));

    it('is read from INFO persistence and INFO memory instead', async () => {
      expect(await probeOf(withAof.url)).toEqual({
        rttMs: expect.any(Number),
        persistence: 'aof',
        evictionPolicy: 'noeviction',
      });
      expect(await probeOf(withoutAof.url)).toEqual({
        rttMs: expect.any(Number),
        persistence: 'rdb-or-none',
        evictionPolicy: 'noeviction',
        warning: expect.stringContaining('Redis has no AOF (aof_enabled:0; CONFIG is disabled'),
      });
    });
  });

  describe('at the start of a service', () => {
    const redis = new ScratchRedis(['--appendonly', 'no']);
    beforeAll(() => redis.start());
    afterAll(() => redis.stop());

    it('the probe warns loudly about a Redis that does not persist, with the commands that fix it', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const sut = new RedisProbe({ REDIS_URL: redis.url });
      try {
        await sut.onApplicationBootstrap();

        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0]?.[0]).toMatch(
          new RegExp(
            `^REDIS AT ${redis.url} CAN LOSE QUEUED JOBS \\(none, maxmemory-policy noeviction\\)\\. .*` +
              `Fix: redis-cli -p ${new URL(redis.url).port} config set appendonly yes ;`,
          ),
        );
      } finally {
        warn.mockRestore();
        await sut.onApplicationShutdown();
      }
    });
  });

  it('reports a PostgreSQL that does not answer, and how to start it', async () => {
    const redis = new ScratchRedis(['--appendonly', 'yes']);
    await redis.start();
    try {
      const databaseUrl = `postgres://adfunnel:secret@127.0.0.1:${await freePort()}/adfunnel`;
      const checked = await preflight({ redisUrl: redis.url, natsUrl: NATS_URL, databaseUrl });
      const printed = formatPreflight(checked, redis.url);

      expect(checked.problems).toEqual([
        {
          dependency: 'PostgreSQL',
          url: expect.not.stringContaining('secret'),
          reason: expect.stringContaining('ECONNREFUSED'),
          howToStart: expect.stringContaining('docker compose -f docker/compose.yml up -d postgres'),
        },
      ]);
      expect(printed).toMatch(
        /PostgreSQL is not reachable at postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/adfunnel \(.*ECONNREFUSED/,
      );
      expect(printed).toContain('unset DATABASE_URL to use the SQLite file');
    } finally {
      await redis.stop();
    }
  });

  it('passes a PostgreSQL that answers', async () => {
    const redis = new ScratchRedis(['--appendonly', 'yes']);
    await redis.start();
    try {
      const checked = await preflight({
        redisUrl: redis.url,
        natsUrl: NATS_URL,
        databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      });

      expect(checked.problems).toEqual([]);
    } finally {
      await redis.stop();
    }
  });
});
