import { describe, expect, it } from '@jest/globals';
import {
  classifyRedisPersistence,
  parseRedisInfo,
  type RedisPersistenceSettings,
  redisCliFor,
} from './redis-persistence.js';

function settings(overrides: Partial<RedisPersistenceSettings> = {}): RedisPersistenceSettings {
  return {
    source: 'config',
    appendonly: true,
    appendfsync: 'always',
    save: '',
    maxmemoryPolicy: 'noeviction',
    ...overrides,
  };
}

describe(classifyRedisPersistence.name, () => {
  it('reports AOF fsynced on every write with noeviction as durable, without warnings', () => {
    const sut = classifyRedisPersistence(settings());

    expect(sut).toEqual({
      persistence: 'aof-always',
      evictionPolicy: 'noeviction',
      source: 'config',
      persists: true,
      canEvict: false,
      warnings: [],
      fixes: [],
    });
  });

  it('warns that an AOF fsynced every second can lose the last seconds of acknowledged writes in a crash', () => {
    const sut = classifyRedisPersistence(settings({ appendfsync: 'everysec' }));

    expect(sut.persistence).toBe('aof-everysec');
    expect(sut.persists).toBe(true);
    expect(sut.warnings).toEqual([expect.stringContaining('up to the last ~2 s of acknowledged')]);
    expect(sut.fixes).toEqual(['redis-cli config set appendfsync always']);
  });

  it('names the fsync policy of an AOF', () => {
    expect(classifyRedisPersistence(settings({ appendfsync: 'everysec' })).persistence).toBe('aof-everysec');
    expect(classifyRedisPersistence(settings({ appendfsync: undefined })).persistence).toBe('aof');
  });

  it('warns that an AOF left to the OS to fsync loses the last seconds in a machine crash', () => {
    const sut = classifyRedisPersistence(settings({ appendfsync: 'no' }));

    expect(sut.persistence).toBe('aof-no-fsync');
    expect(sut.persists).toBe(true);
    expect(sut.warnings).toEqual([expect.stringContaining('crash of the machine')]);
    expect(sut.fixes).toEqual(['redis-cli config set appendfsync always']);
  });

  it('prefers the AOF when RDB snapshots are on as well', () => {
    expect(classifyRedisPersistence(settings({ save: '3600 1' })).persistence).toBe('aof-always');
  });

  it('reports RDB snapshots without AOF as not persisting what came after the last snapshot', () => {
    const sut = classifyRedisPersistence(settings({ appendonly: false, save: '3600 1 300 100' }));

    expect(sut.persistence).toBe('rdb');
    expect(sut.persists).toBe(false);
    expect(sut.warnings).toEqual([expect.stringContaining('since the last snapshot')]);
    expect(sut.fixes).toContain('redis-cli config set appendonly yes');
  });

  it('reports neither AOF nor snapshots as none, saying what is lost and how to turn AOF on', () => {
    const sut = classifyRedisPersistence(settings({ appendonly: false, save: '' }), 'redis-cli -p 6380');

    expect(sut.persistence).toBe('none');
    expect(sut.warnings).toHaveLength(1);
    expect(sut.warnings[0]).toMatch(
      /queued event and served record waiting in Redis, and the budget counters/,
    );
    expect(sut.fixes).toEqual([
      'redis-cli -p 6380 config set appendonly yes',
      'redis-cli -p 6380 config set appendfsync always',
      expect.stringMatching(/^redis-cli -p 6380 config rewrite/),
      'or start Redis with: redis-server --appendonly yes --appendfsync always --maxmemory-policy noeviction',
    ]);
  });

  it('cannot tell RDB from none when only INFO answers and AOF is off', () => {
    const sut = classifyRedisPersistence({
      source: 'info',
      appendonly: false,
      maxmemoryPolicy: 'noeviction',
    });

    expect(sut.persistence).toBe('rdb-or-none');
    expect(sut.persists).toBe(false);
    expect(sut.warnings).toEqual([expect.stringContaining('CONFIG is disabled')]);
  });

  it.each(['allkeys-lru', 'volatile-lru', 'allkeys-random', 'volatile-ttl'])(
    'warns that maxmemory-policy %s can evict queued jobs',
    (policy) => {
      const sut = classifyRedisPersistence(settings({ maxmemoryPolicy: policy }));

      expect(sut.canEvict).toBe(true);
      expect(sut.warnings).toEqual([expect.stringContaining(`maxmemory-policy is ${policy}`)]);
      expect(sut.fixes).toEqual(['redis-cli config set maxmemory-policy noeviction']);
    },
  );

  it('counts an eviction policy Redis does not report as able to evict', () => {
    const sut = classifyRedisPersistence({ source: 'info', appendonly: true });

    expect(sut.evictionPolicy).toBe('unknown');
    expect(sut.canEvict).toBe(true);
    expect(sut.fixes).toEqual([expect.stringContaining("Redis provider's settings")]);
  });

  it('reports both risks of a Redis that neither persists nor refuses eviction', () => {
    const sut = classifyRedisPersistence(
      settings({ appendonly: false, save: '', maxmemoryPolicy: 'allkeys-lru' }),
    );

    expect(sut.warnings).toHaveLength(2);
  });
});

describe(parseRedisInfo.name, () => {
  it('reads the fields of an INFO reply and skips section headers', () => {
    const sut = parseRedisInfo(
      '# Persistence\r\nloading:0\r\naof_enabled:1\r\n\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n',
    );

    expect(Object.fromEntries(sut)).toEqual({
      loading: '0',
      aof_enabled: '1',
      maxmemory_policy: 'noeviction',
    });
  });
});

describe(redisCliFor.name, () => {
  it.each([
    ['redis://127.0.0.1:6379', 'redis-cli'],
    ['redis://localhost', 'redis-cli'],
    ['redis://127.0.0.1:6380/2', 'redis-cli -p 6380'],
    ['redis://:secret@redis.internal:6390', 'redis-cli -h redis.internal -p 6390'],
    ['rediss://cache.example.com:6379', 'redis-cli -h cache.example.com --tls'],
  ])('addresses %s as "%s", never with its password', (url, cli) => {
    expect(redisCliFor(url)).toBe(cli);
  });
});
