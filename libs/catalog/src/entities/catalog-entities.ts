import { AdEntity } from './ad.entity.js';
import { AdvertiserApiKeyEntity } from './advertiser-api-key.entity.js';
import { AdvertiserEntity } from './advertiser.entity.js';
import { CampaignEntity } from './campaign.entity.js';
import { CatalogMetaEntity } from './catalog-meta.entity.js';
import { UserProfileEntity } from './user-profile.entity.js';

export const CATALOG_ENTITIES = [
  AdvertiserEntity,
  CampaignEntity,
  AdEntity,
  UserProfileEntity,
  CatalogMetaEntity,
  AdvertiserApiKeyEntity,
];
