import type { DynamicModule, ModuleMetadata, Type } from '@nestjs/common';
import { BusModule } from '../bus/bus.module.js';
import { ClockModule } from '../clock/clock.module.js';
import { AppConfigModule } from '../config/app-config.module.js';
import type { CommonConfig } from '../config/common-env.js';
import { HealthModule } from '../health/health.module.js';

export interface ServiceModuleOptions extends Pick<ModuleMetadata, 'imports' | 'controllers' | 'providers'> {
  /** Service name, also the NATS connection name. */
  name: string;
  config: CommonConfig;
}

/**
 * The wiring every service shares around its own imports, controllers and providers: the validated
 * config as APP_CONFIG, the funnel's clock (CLOCK) as Clock, the bus client in the config's
 * BUS_NAMESPACE, and GET /health over every probe the app's modules register.
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
      ...(options.imports ?? []),
    ],
    controllers: options.controllers ?? [],
    providers: options.providers ?? [],
  };
}
