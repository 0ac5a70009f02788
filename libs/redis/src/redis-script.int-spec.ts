import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisScript } from './redis-script.js';

describe(RedisScript.name, () => {
  let redis: Redis;

  beforeAll(() => {
    // This machine's Redis (libs/testing's TEST_REDIS_URL; libs/testing depends on this library).
    redis = new Redis('redis://127.0.0.1:6379');
  });

  afterAll(() => {
    redis.disconnect();
  });

  it('runs a script the server does not know yet, and by its SHA from then on', async () => {
    // A source no one has loaded: its first EVALSHA answers NOSCRIPT.
    const sut = new RedisScript('echo', `-- ${randomUUID()}\nreturn ARGV[1]`);
    expect(await redis.script('EXISTS', sut.sha)).toEqual([0]);
    expect(await sut.run(redis, [], ['first'])).toBe('first');
    expect(await redis.script('EXISTS', sut.sha)).toEqual([1]);
    expect(await sut.run(redis, [], ['second'])).toBe('second');
  });

  it('passes other script errors through', async () => {
    const sut = new RedisScript('broken', `-- ${randomUUID()}\nreturn redis.call('NO_SUCH_COMMAND')`);
    await expect(sut.run(redis, [], [])).rejects.toThrow(/Unknown Redis command/i);
  });
});
