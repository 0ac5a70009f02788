import { CatalogModule } from '@adfunnel/catalog';
import { AppConfigModule, BusModule, DatabaseProbe, HealthModule, NatsProbe } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import type { RankingConfig } from './config.js';
import { ModelAdminController } from './model-admin.controller.js';
import { RankingModelProbe } from './ranking-model.probe.js';
import { RankingModelModule } from './ranking-model.module.js';
import { RankingController } from './ranking.controller.js';
import { RankingService } from './ranking.service.js';

@Module({})
export class RankingModule {
  static forRoot(config: RankingConfig): DynamicModule {
    return {
      module: RankingModule,
      imports: [
        AppConfigModule.forRoot(config),
        BusModule.forRoot({
          natsUrl: config.NATS_URL,
          timeoutMs: config.BUS_TIMEOUT_MS,
          name: 'ranking',
          namespace: config.BUS_NAMESPACE,
        }),
        CatalogModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          sqlitePath: config.SQLITE_PATH,
          catalogRefreshMs: config.CATALOG_REFRESH_MS,
        }),
        RankingModelModule,
        HealthModule.forRoot({ probes: [NatsProbe, DatabaseProbe, RankingModelProbe] }),
      ],
      controllers: [RankingController, ModelAdminController],
      providers: [RankingService],
    };
  }
}
