import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CatalogMetaEntity } from './entities/catalog-meta.entity.js';

/** The catalog_meta row a writer moves on every change, so services reload without waiting for their period. */
export const CATALOG_CHANGE_META_KEY = 'catalog_changed';

/**
 * Records that the catalog changed, in the writer's transaction (the mark moves with the change or
 * not at all). Every CatalogSnapshotService polling the mark reloads within its poll period.
 */
export async function markCatalogChanged(manager: EntityManager, now = Date.now()): Promise<string> {
  const value = `${now}-${randomUUID()}`;
  await manager
    .getRepository(CatalogMetaEntity)
    .upsert({ key: CATALOG_CHANGE_META_KEY, value, updatedAt: now }, ['key']);
  return value;
}

/** The current mark; null when no writer has marked the catalog yet. */
export async function catalogChangeMark(dataSource: DataSource): Promise<string | null> {
  const row = await dataSource
    .getRepository(CatalogMetaEntity)
    .findOne({ select: { value: true }, where: { key: CATALOG_CHANGE_META_KEY } });
  return row?.value ?? null;
}
