import { APP_CONFIG } from '@adfunnel/platform';
import { Module } from '@nestjs/common';
import type { RankingConfig } from './config.js';
import { RankingModelProbe } from './ranking-model.probe.js';
import { RankingModelService, SERVED_MODEL } from './ranking-model.service.js';

/** The served ranking model: resolved from MODELS_DIR, loaded into worker threads, hot-reloaded. */
@Module({
  providers: [
    {
      provide: SERVED_MODEL,
      inject: [APP_CONFIG],
      useFactory: (config: RankingConfig) => RankingModelService.resolve(config),
    },
    RankingModelService,
    RankingModelProbe,
  ],
  exports: [RankingModelService],
})
export class RankingModelModule {}
