import { CatalogModule } from '@adfunnel/catalog';
import { AppConfigModule, BusModule, DatabaseProbe, HealthModule, NatsProbe } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import type { RetrievalConfig } from './config.js';
import { AdIndexProbe } from './index/ad-index.probe.js';
import { IndexLifecycleModule } from './index/index-lifecycle.module.js';
import { RetrievalController } from './retrieval.controller.js';
import { RetrievalService } from './retrieval.service.js';

@Module({})
export class RetrievalModule {
  static forRoot(config: RetrievalConfig): DynamicModule {
    return {
      module: RetrievalModule,
      imports: [
        AppConfigModule.forRoot(config),
        BusModule.forRoot({
          natsUrl: config.NATS_URL,
          timeoutMs: config.BUS_TIMEOUT_MS,
          name: 'retrieval',
          namespace: config.BUS_NAMESPACE,
        }),
        CatalogModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          sqlitePath: config.SQLITE_PATH,
          catalogRefreshMs: config.CATALOG_REFRESH_MS,
        }),
        IndexLifecycleModule,
        HealthModule.forRoot({ probes: [NatsProbe, DatabaseProbe, AdIndexProbe] }),
      ],
      controllers: [RetrievalController],
      providers: [RetrievalService],
    };
  }
}
