import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seedCatalog } from '@adfunnel/catalog-seed';
import { migrateFunnelDatabase, openFunnelDatabase } from '@adfunnel/event-store';
import type { MarketplaceSpec } from '@adfunnel/simulator';

export interface SeededCatalog {
  /** The temporary directory that holds the database; tests may put more files in it. */
  dir: string;
  sqlitePath: string;
  remove(): Promise<void>;
}

/** A migrated SQLite funnel database (catalog and event store) seeded with `spec`, in a temporary directory of its own. */
export async function seededSqliteCatalog(spec: MarketplaceSpec): Promise<SeededCatalog> {
  const dir = await mkdtemp(path.join(tmpdir(), 'adfunnel-catalog-'));
  const sqlitePath = path.join(dir, 'catalog.sqlite');
  const ds = await openFunnelDatabase({ sqlitePath });
  try {
    await migrateFunnelDatabase(ds);
    await seedCatalog(ds, spec);
  } finally {
    await ds.destroy();
  }
  return { dir, sqlitePath, remove: () => rm(dir, { recursive: true, force: true }) };
}
