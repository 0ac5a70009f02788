import { CatalogModule } from '@adfunnel/catalog';
import { serviceModule } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import type { RankingConfig } from './config.js';
import { ModelAdminController } from './model-admin.controller.js';
import { RankingModelModule } from './ranking-model.module.js';
import { RankingController } from './ranking.controller.js';
import { RankingService } from './ranking.service.js';
import { ModelRolloutModule } from './shadow/model-rollout.module.js';

@Module({})
export class RankingModule {
  static forRoot(config: RankingConfig): DynamicModule {
    return serviceModule(RankingModule, {
      name: 'ranking',
      config,
      imports: [CatalogModule.forService(config), RankingModelModule, ModelRolloutModule],
      controllers: [RankingController, ModelAdminController],
      providers: [RankingService],
    });
  }
}
