import { CatalogModule } from '@adfunnel/catalog';
import { AppConfigModule, BusModule, DatabaseProbe, HealthModule, NatsProbe } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { AdServingService } from './ads/ad-serving.service.js';
import { AdsController } from './ads/ads.controller.js';
import { ServedRecordPublisher } from './ads/served-record.publisher.js';
import { UserProfileService } from './ads/user-profile.service.js';
import type { GatewayConfig } from './config.js';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        AppConfigModule.forRoot(config),
        BusModule.forRoot({
          natsUrl: config.NATS_URL,
          timeoutMs: config.BUS_TIMEOUT_MS,
          name: 'gateway',
          namespace: config.BUS_NAMESPACE,
        }),
        CatalogModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          sqlitePath: config.SQLITE_PATH,
          catalogRefreshMs: config.CATALOG_REFRESH_MS,
        }),
        HealthModule.forRoot({ probes: [NatsProbe, DatabaseProbe] }),
      ],
      controllers: [AdsController],
      providers: [AdServingService, ServedRecordPublisher, UserProfileService],
    };
  }
}
