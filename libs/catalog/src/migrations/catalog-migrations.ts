import { CatalogSchema1764000000000 } from './1764000000000-catalog-schema.migration.js';
import { CampaignMoneySettings1764200000000 } from './1764200000000-campaign-money-settings.migration.js';
import { CampaignReserve1764800000000 } from './1764800000000-campaign-reserve.migration.js';
import { UserProfilesDeclared1765000000000 } from './1765000000000-user-profiles-declared.migration.js';
import { CatalogArchive1765400000000 } from './1765400000000-catalog-archive.migration.js';
import { CampaignStatusChanged1765500000000 } from './1765500000000-campaign-status-changed.migration.js';

/** In order; TypeORM records each by name in the `catalog_migrations` table. */
export const CATALOG_MIGRATIONS = [
  CatalogSchema1764000000000,
  CampaignMoneySettings1764200000000,
  CampaignReserve1764800000000,
  UserProfilesDeclared1765000000000,
  CatalogArchive1765400000000,
  CampaignStatusChanged1765500000000,
];
