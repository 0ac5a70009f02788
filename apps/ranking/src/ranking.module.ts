import { CatalogModule } from '@adfunnel/catalog';
import { EVENT_STORE_ENTITIES } from '@adfunnel/event-store';
import { serviceModule } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { CalibrationAdminController } from './calibration/calibration-admin.controller.js';
import { ServingCalibration } from './calibration/serving-calibration.service.js';
import type { RankingConfig } from './config.js';
import { ModelAdminController } from './model-admin.controller.js';
import { RankingModelModule } from './ranking-model.module.js';
import { RankingMetrics } from './ranking-metrics.js';
import { RankingController } from './ranking.controller.js';
import { RankingService } from './ranking.service.js';
import { ModelRolloutModule } from './shadow/model-rollout.module.js';

@Module({})
export class RankingModule {
  static forRoot(config: RankingConfig): DynamicModule {
    return serviceModule(RankingModule, {
      name: 'ranking',
      config,
      imports: [
        // The event store's entities: calibration reads the logged impressions and clicks.
        CatalogModule.forService(config, { entities: EVENT_STORE_ENTITIES }),
        RankingModelModule,
        ModelRolloutModule,
      ],
      controllers: [RankingController, ModelAdminController, CalibrationAdminController],
      providers: [RankingService, ServingCalibration, RankingMetrics],
    });
  }
}
