import {
  type DatabaseConfig,
  createDataSource,
  migrationsPending,
  runCatalogMigrations,
} from '@adfunnel/catalog';
import type { DataSource } from 'typeorm';
import { CampaignDaySpendEntity } from './entities/campaign-day-spend.entity.js';
import { LedgerEntryEntity } from './entities/ledger-entry.entity.js';
import { ServedAdEntity } from './entities/served-ad.entity.js';
import { TrackingEventEntity } from './entities/tracking-event.entity.js';
import {
  EVENT_STORE_ENTITIES,
  eventStoreMigrationsPending,
  migrateEventStore,
} from './event-store-schema.js';

export interface EventStoreCounts {
  trackingEvents: number;
  servedAds: number;
  ledgerEntries: number;
  campaignDays: number;
}

/** The whole database of a funnel, catalog and event store, outside Nest (CLI, tools, tests). */
export function openFunnelDatabase(config: DatabaseConfig): Promise<DataSource> {
  return createDataSource(config, EVENT_STORE_ENTITIES);
}

/** The catalog's pending migrations, then the event store's: what applies to a database to serve. */
export async function migrateFunnelDatabase(ds: DataSource): Promise<string[]> {
  return [...(await runCatalogMigrations(ds)), ...(await migrateEventStore(ds))];
}

export async function funnelMigrationsPending(ds: DataSource): Promise<string[]> {
  return [...(await migrationsPending(ds)), ...(await eventStoreMigrationsPending(ds))];
}

export async function eventStoreCounts(ds: DataSource): Promise<EventStoreCounts> {
  const [trackingEvents, servedAds, ledgerEntries, campaignDays] = await Promise.all([
    ds.getRepository(TrackingEventEntity).count(),
    ds.getRepository(ServedAdEntity).count(),
    ds.getRepository(LedgerEntryEntity).count(),
    ds.getRepository(CampaignDaySpendEntity).count(),
  ]);
  return { trackingEvents, servedAds, ledgerEntries, campaignDays };
}
