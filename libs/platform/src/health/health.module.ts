import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { HEALTH_PROBES, type HealthProbe } from './health-probe.js';

export interface HealthModuleOptions {
  probes: Type<HealthProbe>[];
}

/** Serves GET /health from the given probes (e.g. `[NatsProbe, RedisProbe, DatabaseProbe]`). */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: true })],
      controllers: [HealthController],
      providers: [
        ...options.probes,
        {
          provide: HEALTH_PROBES,
          useFactory: (...probes: HealthProbe[]) => probes,
          inject: options.probes,
        },
      ],
      exports: [HEALTH_PROBES],
    };
  }
}
