import type { DynamicModule, ModuleMetadata, Type } from '@nestjs/common';
import { BusModule } from '../bus/bus.module.js';
import { ClockModule } from '../clock/clock.module.js';
import { AppConfigModule } from '../config/app-config.module.js';
import type { CommonConfig } from '../config/common-env.js';
import { HealthModule } from '../health/health.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';

export interface ServiceModuleOptions extends Pick<ModuleMetadata, 'imports' | 'controllers' | 'providers'> {
  /** Service name, also the NATS connection name. */
  name: string;
  config: CommonConfig;
}

/**
 * The wiring every service shares around its own imports, controllers and providers: the validated
 * config as APP_CONFIG, the funnel's clock (CLOCK) as Clock, the bus client in the config's
 * BUS_NAMESPACE, GET /health over every probe the app's modules register, and GET /metrics
 * (`Metrics`, labelled with the service's name) with the HTTP, bus and process metrics.
 */
export function serviceModule(module: Type<unknown>, options: ServiceModuleOptions): DynamicModule {
  const { config } = options;
  return {
    module,
    imports: [
      AppConfigModule.forRoot(config),
      ClockModule.forRoot(config.CLOCK),
      BusModule.forRoot({
        natsUrl: config.NATS_URL,
        timeoutMs: config.BUS_TIMEOUT_MS,
        name: options.name,
        namespace: config.BUS_NAMESPACE,
      }),
      HealthModule,
      MetricsModule.forRoot({
        service: options.name,
        ...(config.METRICS_TOKEN === undefined ? {} : { token: config.METRICS_TOKEN }),
      }),
      ...(options.imports ?? []),
    ],
    controllers: options.controllers ?? [],
    providers: options.providers ?? [],
  };
}
