import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { RedisProbe } from '@adfunnel/platform';
import { ScratchRedis, freePort } from '@adfunnel/testing';
import { Redis } from 'ioredis';
import { formatPreflight, preflight } from './preflight.js';

const NATS_URL = 'nats://127.0.0.1:4222';
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

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
    let redis: ScratchRedis;
    beforeAll(async () => {
      redis = await ScratchRedis.start(['--appendonly', 'no']);
    });
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
      expect(printed).toContain(`redis-cli -p ${port} config set appendfsync always`);
      expect(printed).toContain(
        'redis-server --appendonly yes --appendfsync always --maxmemory-policy noeviction',
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

  describe('a Redis with AOF fsynced on every write', () => {
    let redis: ScratchRedis;
    beforeAll(async () => {
      redis = await ScratchRedis.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    });
    afterAll(() => redis.stop());

    it('is up in /health as aof-always, without a warning', async () => {
      const health = await probeOf(redis.url);

      expect(health).toEqual({
        rttMs: expect.any(Number),
        persistence: 'aof-always',
        evictionPolicy: 'noeviction',
      });
    });

    it('makes the preflight say that Redis persists, and nothing louder', async () => {
      const checked = await preflight({ redisUrl: redis.url, natsUrl: NATS_URL });
      const printed = formatPreflight(checked, redis.url);

      expect(checked.problems).toEqual([]);
      expect(printed).toBe(
        `Redis at ${redis.url} persists: AOF, fsync on every write; maxmemory-policy noeviction.\n`,
      );
    });
  });

  describe('a Redis with AOF fsynced every second', () => {
    let redis: ScratchRedis;
    beforeAll(async () => {
      redis = await ScratchRedis.start(['--appendonly', 'yes', '--appendfsync', 'everysec']);
    });
    afterAll(() => redis.stop());

    it('makes the preflight warn that a crash can lose the last seconds of acknowledged jobs', async () => {
      const checked = await preflight({ redisUrl: redis.url, natsUrl: NATS_URL });
      const printed = formatPreflight(checked, redis.url).replace(ANSI, '');
      const port = new URL(redis.url).port;

      expect(checked.redisPersistence?.persistence).toBe('aof-everysec');
      expect(printed).toContain(
        `WARNING: Redis at ${redis.url} can lose queued jobs (AOF, fsync every second;`,
      );
      expect(printed).toContain('up to the last ~2 s of acknowledged');
      expect(printed).toContain(`redis-cli -p ${port} config set appendfsync always`);
    });
  });

  describe('a managed Redis that refuses CONFIG', () => {
    let withAof: ScratchRedis;
    let withoutAof: ScratchRedis;
    beforeAll(async () => {
      [withAof, withoutAof] = await Promise.all([
        ScratchRedis.start(['--appendonly', 'yes', '--rename-command', 'CONFIG', '']),
        ScratchRedis.start(['--appendonly', 'no', '--rename-command', 'CONFIG', '']),
      ]);
    });
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
    let redis: ScratchRedis;
    beforeAll(async () => {
      redis = await ScratchRedis.start(['--appendonly', 'no']);
    });
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
    const redis = await ScratchRedis.start(['--appendonly', 'yes']);
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
    const redis = await ScratchRedis.start(['--appendonly', 'yes']);
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
