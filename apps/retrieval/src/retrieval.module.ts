import { CatalogModule } from '@adfunnel/catalog';
import { serviceModule } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { DeliveryDiagnosticsModule } from '@adfunnel/delivery-diagnostics';
import { BudgetStateModule } from './budget/budget-state.module.js';
import { RetrievalDelivery } from './diagnostics/retrieval-delivery.js';
import type { RetrievalConfig } from './config.js';
import { IndexLifecycleModule } from './index/index-lifecycle.module.js';
import { RetrievalMetrics } from './retrieval-metrics.js';
import { RetrievalController } from './retrieval.controller.js';
import { RetrievalService } from './retrieval.service.js';
import { CandidateSourcesModule } from './sources/candidate-sources.module.js';
import { TwoTowerModule } from './two-tower/two-tower.module.js';

@Module({})
export class RetrievalModule {
  static forRoot(config: RetrievalConfig): DynamicModule {
    return serviceModule(RetrievalModule, {
      name: 'retrieval',
      config,
      imports: [
        CatalogModule.forService(config),
        IndexLifecycleModule,
        BudgetStateModule,
        CandidateSourcesModule,
        TwoTowerModule,
        DeliveryDiagnosticsModule.forService('retrieval', config),
      ],
      controllers: [RetrievalController],
      providers: [RetrievalService, RetrievalMetrics, RetrievalDelivery],
    });
  }
}
