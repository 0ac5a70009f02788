import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The services of this machine the integration tests run against (README, Tests). */
export const TEST_NATS_URL = 'nats://127.0.0.1:4222';
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';
export const TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A name unique to one test run (`prefix` of lower-case letters, digits and `_`), valid as a bus
 * namespace, a PostgreSQL schema and a bull key prefix: what keeps a run apart from a developer's
 * funnel and from other runs on the same machine.
 */
export function testRunId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export interface PostgresTestSchema {
  schema: string;
  /** DATABASE_URL of the schema; the catalog creates it on first connection. */
  databaseUrl: string;
  drop(): Promise<void>;
}

export function postgresTestSchema(schema: string): PostgresTestSchema {
  return {
    schema,
    databaseUrl: `${TEST_POSTGRES_URL}?schema=${schema}`,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Deletes every Redis key under `prefix:` (a run's bull queues). */
export async function deleteRedisKeys(prefix: string, redisUrl = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
