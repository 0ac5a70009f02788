import { CatalogModule } from '@adfunnel/catalog';
import { AppConfigModule, BusModule, DatabaseProbe, HealthModule, NatsProbe } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { AuctionController } from './auction.controller.js';
import { AuctionService } from './auction.service.js';
import { CatalogSnapshotProbe } from './catalog-snapshot.probe.js';
import type { AuctionConfig } from './config.js';

@Module({})
export class AuctionModule {
  static forRoot(config: AuctionConfig): DynamicModule {
    return {
      module: AuctionModule,
      imports: [
        AppConfigModule.forRoot(config),
        BusModule.forRoot({
          natsUrl: config.NATS_URL,
          timeoutMs: config.BUS_TIMEOUT_MS,
          name: 'auction',
          namespace: config.BUS_NAMESPACE,
        }),
        CatalogModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          sqlitePath: config.SQLITE_PATH,
          catalogRefreshMs: config.CATALOG_REFRESH_MS,
        }),
        HealthModule.forRoot({ probes: [NatsProbe, DatabaseProbe, CatalogSnapshotProbe] }),
      ],
      controllers: [AuctionController],
      providers: [AuctionService],
    };
  }
}
