import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CATALOG_ENTITIES } from './entities/catalog-entities.js';
import { CATALOG_MIGRATIONS } from './migrations/catalog-migrations.js';
import {
  MIGRATIONS_TABLE,
  SQLITE_BUSY_TIMEOUT_MS,
  databaseOptions,
  parsePostgresUrl,
  redact,
} from './database-options.js';

describe(databaseOptions.name, () => {
  it("adds other libraries' entities to the catalog's", () => {
    class EventEntity {}
    const sut = databaseOptions({ sqlitePath: 'var/test.sqlite' }, [EventEntity]);

    expect(sut.entities).toEqual([...CATALOG_ENTITIES, EventEntity]);
  });

  it('opens SQLite at an absolute path with WAL and a busy timeout when no DATABASE_URL is set', () => {
    const sut = databaseOptions({ sqlitePath: 'var/test.sqlite' });

    expect(sut).toMatchObject({
      type: 'better-sqlite3',
      database: path.resolve('var/test.sqlite'),
      enableWAL: true,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
      synchronize: false,
      migrationsRun: false,
      migrationsTableName: MIGRATIONS_TABLE,
    });
    expect(sut.entities).toEqual(CATALOG_ENTITIES);
    expect(sut.migrations).toBe(CATALOG_MIGRATIONS);
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(databaseOptions({ databaseUrl: '', sqlitePath: 'x.sqlite' }).type).toBe('better-sqlite3');
  });

  it('uses PostgreSQL and the schema parameter when DATABASE_URL is set', () => {
    const sut = databaseOptions({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test?schema=t_123',
      sqlitePath: 'ignored.sqlite',
      logging: true,
    });

    expect(sut).toMatchObject({
      type: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/test',
      schema: 't_123',
      logging: true,
      synchronize: false,
    });
  });

  it('leaves the schema unset without the parameter', () => {
    const sut = databaseOptions({ databaseUrl: 'postgresql://u:p@db/adfunnel', sqlitePath: 'x' });

    expect(sut.type).toBe('postgres');
    expect(sut).not.toHaveProperty('schema');
  });
});

describe(parsePostgresUrl.name, () => {
  it('keeps other query parameters', () => {
    expect(parsePostgresUrl('postgres://h/db?sslmode=require&schema=abc')).toEqual({
      url: 'postgres://h/db?sslmode=require',
      schema: 'abc',
    });
  });

  it.each([
    ['not a url', 'DATABASE_URL is not a valid URL'],
    ['mysql://h/db', 'must start with postgres:// or postgresql://'],
    ['postgres://h', 'must name a database'],
    ['postgres://h/db?schema=Bad-Name', 'schema "Bad-Name" is not a plain lower-case identifier'],
  ])('refuses %s', (url, message) => {
    expect(() => parsePostgresUrl(url)).toThrow(message);
  });
});

describe(redact.name, () => {
  it('hides the password', () => {
    expect(redact('postgres://user:secret@h:5432/db')).toBe('postgres://user:***@h:5432/db');
    expect(redact('postgres://user@h/db')).toBe('postgres://user@h/db');
  });
});
