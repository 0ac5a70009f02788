import { AdEntity } from './ad.entity.js';
import { AdvertiserEntity } from './advertiser.entity.js';
import { CampaignEntity } from './campaign.entity.js';
import { CatalogMetaEntity } from './catalog-meta.entity.js';
import { ServedAdEntity } from './served-ad.entity.js';
import { TrackingEventEntity } from './tracking-event.entity.js';
import { UserProfileEntity } from './user-profile.entity.js';

export const CATALOG_ENTITIES = [
  AdvertiserEntity,
  CampaignEntity,
  AdEntity,
  UserProfileEntity,
  TrackingEventEntity,
  ServedAdEntity,
  CatalogMetaEntity,
];
