import { CatalogModule } from '@adfunnel/catalog';
import { DeliveryDiagnosticsModule } from '@adfunnel/delivery-diagnostics';
import { serviceModule } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { AuctionMetrics } from './auction-metrics.js';
import { AuctionController } from './auction.controller.js';
import { AuctionService } from './auction.service.js';
import { BudgetModule } from './budget/budget.module.js';
import { CatalogSnapshotProbe } from './catalog-snapshot.probe.js';
import { AuctionDelivery } from './diagnostics/auction-delivery.js';
import { PacingModule } from './pacing/pacing.module.js';
import type { AuctionConfig } from './config.js';

@Module({})
export class AuctionModule {
  static forRoot(config: AuctionConfig): DynamicModule {
    return serviceModule(AuctionModule, {
      name: 'auction',
      config,
      imports: [
        CatalogModule.forService(config),
        BudgetModule,
        PacingModule,
        DeliveryDiagnosticsModule.forService('auction', config),
      ],
      controllers: [AuctionController],
      providers: [AuctionService, AuctionMetrics, CatalogSnapshotProbe, AuctionDelivery],
    });
  }
}
