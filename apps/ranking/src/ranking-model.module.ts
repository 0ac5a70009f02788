import { APP_CONFIG } from '@adfunnel/platform';
import { Global, Module } from '@nestjs/common';
import type { RankingConfig } from './config.js';
import { RankingModelService, SERVED_MODEL } from './ranking-model.service.js';

/** Global so that the health module's model probe can reach the served model. */
@Global()
@Module({
  providers: [
    {
      provide: SERVED_MODEL,
      inject: [APP_CONFIG],
      useFactory: (config: RankingConfig) => RankingModelService.resolve(config),
    },
    RankingModelService,
  ],
  exports: [RankingModelService],
})
export class RankingModelModule {}
