import { Module } from '@nestjs/common';
import { IndexLifecycleModule } from '../index/index-lifecycle.module.js';
import { TwoTowerAdminController } from './two-tower-admin.controller.js';
import { TwoTowerRetrievalService } from './two-tower-retrieval.service.js';

/**
 * The two-tower model in service and its admin endpoints; RetrievalService asks it for the
 * personalized candidates. Its tower index is saved in IndexLifecycleModule's IndexStore.
 */
@Module({
  imports: [IndexLifecycleModule],
  controllers: [TwoTowerAdminController],
  providers: [TwoTowerRetrievalService],
  exports: [TwoTowerRetrievalService],
})
export class TwoTowerModule {}
