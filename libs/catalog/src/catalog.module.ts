import { type CommonConfig, DatabaseProbe } from '@adfunnel/platform';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CATALOG_MODULE_OPTIONS } from './catalog-module-options.js';
import { CatalogReader } from './catalog-reader.service.js';
import { CatalogSnapshotService } from './catalog-snapshot.service.js';
import { CatalogStartupCheck } from './catalog-startup-check.service.js';
import type { CatalogModuleOptions } from './database-config.js';
import { databaseOptions } from './database-options.js';

/**
 * The catalog database for an app: the TypeORM DataSource (global), CatalogReader,
 * CatalogSnapshotService and the database's health probe. Init fails with a clear message on pending
 * migrations or an empty catalog.
 */
@Global()
@Module({})
export class CatalogModule {
  static forService(
    config: CommonConfig,
    options: Pick<CatalogModuleOptions, 'requireAds' | 'entities'> = {},
  ): DynamicModule {
    return CatalogModule.forRoot({
      databaseUrl: config.DATABASE_URL,
      sqlitePath: config.SQLITE_PATH,
      catalogRefreshMs: config.CATALOG_REFRESH_MS,
      catalogChangePollMs: config.CATALOG_CHANGE_POLL_MS,
      ...options,
    });
  }

  static forRoot(options: CatalogModuleOptions): DynamicModule {
    return {
      module: CatalogModule,
      global: true,
      imports: [
        TypeOrmModule.forRoot({
          ...databaseOptions(options, options.entities),
          retryAttempts: 5,
          retryDelay: 2000,
        }),
      ],
      providers: [
        { provide: CATALOG_MODULE_OPTIONS, useValue: options },
        CatalogStartupCheck,
        CatalogReader,
        CatalogSnapshotService,
        DatabaseProbe,
      ],
      exports: [CatalogReader, CatalogSnapshotService, CatalogStartupCheck],
    };
  }
}
