import path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig, ExtraEntities } from './database-config.js';
import { CATALOG_ENTITIES } from './entities/catalog-entities.js';
import { CATALOG_MIGRATIONS } from './migrations/catalog-migrations.js';

/** SQLite waits this long for a lock before SQLITE_BUSY: five processes share one file. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;
export const MIGRATIONS_TABLE = 'catalog_migrations';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresTarget {
  /** The URL without the `schema` parameter (pg would pass unknown parameters to the server). */
  url: string;
  schema: string | undefined;
}

/** Splits `?schema=` off a postgres URL and checks both; throws an Error naming what is wrong. */
export function parsePostgresUrl(databaseUrl: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error(`DATABASE_URL is not a valid URL: "${redact(databaseUrl)}"`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`DATABASE_URL must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  if (url.pathname.length <= 1) {
    throw new Error(`DATABASE_URL must name a database, e.g. postgres://postgres@127.0.0.1:5432/adfunnel`);
  }
  const schema = url.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(
      `DATABASE_URL schema "${schema}" is not a plain lower-case identifier (letters, digits, _; at most 63)`,
    );
  }
  url.searchParams.delete('schema');
  return { url: url.toString(), schema };
}

export function databaseOptions(config: DatabaseConfig, entities: ExtraEntities = []): DataSourceOptions {
  const common = {
    entities: Array.from([...CATALOG_ENTITIES, ...entities]),
    migrations: CATALOG_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
    logging: config.logging ?? false,
  } as const;
  if (config.databaseUrl !== undefined && config.databaseUrl !== '') {
    const { url, schema } = parsePostgresUrl(config.databaseUrl);
    return {
      ...common,
      type: 'postgres',
      url,
      ...(schema === undefined ? {} : { schema }),
      applicationName: 'adfunnel',
    };
  }
  if (config.sqlitePath === '') throw new Error('SQLITE_PATH is empty; set it or DATABASE_URL');
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.sqlitePath === ':memory:' ? ':memory:' : path.resolve(config.sqlitePath),
    enableWAL: true,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      // WAL makes NORMAL durable across application crashes; only an OS crash can lose the last commits.
      db.pragma('synchronous = NORMAL');
    },
  };
}

/** A URL safe to print: the password replaced. */
export function redact(databaseUrl: string): string {
  return databaseUrl.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
