import { CatalogModule } from '@adfunnel/catalog';
import { DeliveryDiagnosticsModule } from '@adfunnel/delivery-diagnostics';
import { RedisProbe, serviceModule } from '@adfunnel/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { ActivityController } from './activity/activity.controller.js';
import { OrganicActivityService } from './activity/organic-activity.service.js';
import { AdServingMetrics } from './ads/ad-serving-metrics.js';
import { AdServingService } from './ads/ad-serving.service.js';
import { AdsController } from './ads/ads.controller.js';
import { servedQueueProvider } from './ads/served-queue.js';
import { ServedRecordWriter } from './ads/served-record.writer.js';
import { UserProfileService } from './ads/user-profile.service.js';
import type { GatewayConfig } from './config.js';
import { GatewayDelivery } from './diagnostics/gateway-delivery.js';
import { ExperimentsAdminController } from './experiments/experiments-admin.controller.js';
import type { LoadedExperiments } from './experiments/experiments-file.js';
import { ExperimentsService, INITIAL_EXPERIMENTS } from './experiments/experiments.service.js';
import { GatewayAdmission } from './overload/gateway-admission.js';

@Module({})
export class GatewayModule {
  /** `experiments`: EXPERIMENTS_CONFIG as validated at start (gatewayServiceOptions); absent: none. */
  static forRoot(config: GatewayConfig, experiments?: LoadedExperiments): DynamicModule {
    return serviceModule(GatewayModule, {
      name: 'gateway',
      config,
      imports: [CatalogModule.forService(config), DeliveryDiagnosticsModule.forService('gateway', config)],
      controllers: [AdsController, ActivityController, ExperimentsAdminController],
      providers: [
        AdServingService,
        AdServingMetrics,
        servedQueueProvider,
        ServedRecordWriter,
        UserProfileService,
        OrganicActivityService,
        RedisProbe,
        GatewayAdmission,
        GatewayDelivery,
        ExperimentsService,
        ...(experiments === undefined ? [] : [{ provide: INITIAL_EXPERIMENTS, useValue: experiments }]),
      ],
    });
  }
}
