import { Module } from '@nestjs/common';
import { RankingModelModule } from '../ranking-model.module.js';
import { ModelRolloutController } from './model-rollout.controller.js';
import { ModelRolloutService } from './model-rollout.service.js';
import { ShadowLogPublisher } from './shadow-log.publisher.js';
import { ShadowModelService } from './shadow-model.service.js';

/** Shadow scoring beside the served model, and promote / rollback of the `current` pointer. */
@Module({
  imports: [RankingModelModule],
  controllers: [ModelRolloutController],
  providers: [ShadowLogPublisher, ShadowModelService, ModelRolloutService],
  exports: [ShadowModelService],
})
export class ModelRolloutModule {}
