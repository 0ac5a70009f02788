import {
  AdvertiserApiKeyService,
  AdvertiserAuthenticator,
  AdvertiserCatalogService,
  CatalogModule,
} from '@adfunnel/catalog';
import { EVENT_STORE_ENTITIES } from '@adfunnel/event-store';
import { serviceModule } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { AdvertiserAccess } from './access/advertiser-access.service.js';
import { AdvertisersController } from './advertisers/advertisers.controller.js';
import { AdsController } from './campaigns/ads.controller.js';
import { CampaignsController } from './campaigns/campaigns.controller.js';
import type { AdvertiserConfig } from './config.js';
import { ReportsController } from './reports/reports.controller.js';

@Module({})
export class AdvertiserModule {
  static forRoot(config: AdvertiserConfig): DynamicModule {
    return serviceModule(AdvertiserModule, {
      name: 'advertiser',
      config,
      imports: [
        // An empty catalog is where the first advertiser starts; reports read the ledger's tables.
        CatalogModule.forService(config, { requireAds: false, entities: EVENT_STORE_ENTITIES }),
      ],
      controllers: [AdvertisersController, CampaignsController, AdsController, ReportsController],
      providers: [
        AdvertiserApiKeyService,
        AdvertiserAuthenticator,
        AdvertiserCatalogService,
        AdvertiserAccess,
      ],
    });
  }
}
