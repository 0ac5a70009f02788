import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DatabaseConfig } from '@adfunnel/catalog';
import { postgresTestSchema, testRunId } from './test-infrastructure.js';

/** An empty database of a test's own: its service environment, its config, and how to drop it. */
export interface TestDatabase {
  env: Record<string, string>;
  database: DatabaseConfig;
  drop(): Promise<void>;
}

export interface TestDatabaseKind {
  name: 'SQLite' | 'PostgreSQL';
  create(): Promise<TestDatabase>;
}

/** Both databases a service runs on (a temporary SQLite file, a PostgreSQL schema), for `describe.each`. */
export function testDatabaseKinds(label: string): TestDatabaseKind[] {
  return [
    {
      name: 'SQLite',
      async create() {
        const dir = await mkdtemp(path.join(tmpdir(), `adfunnel-${label}-`));
        const sqlitePath = path.join(dir, 'catalog.sqlite');
        return {
          env: { SQLITE_PATH: sqlitePath },
          database: { sqlitePath },
          drop: () => rm(dir, { recursive: true, force: true }),
        };
      },
    },
    {
      name: 'PostgreSQL',
      create() {
        const { databaseUrl, drop } = postgresTestSchema(testRunId(`${label}_test`));
        return Promise.resolve({
          env: { DATABASE_URL: databaseUrl },
          database: { databaseUrl, sqlitePath: '' },
          drop,
        });
      },
    },
  ];
}
