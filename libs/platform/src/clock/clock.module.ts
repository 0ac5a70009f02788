import { type DynamicModule, Module } from '@nestjs/common';
import { Clock } from './clock.js';
import { clockOf } from './clock-spec.js';

/** Makes the funnel's clock (the app's validated `CLOCK`) injectable everywhere as `Clock`. */
@Module({})
export class ClockModule {
  static forRoot(spec: string): DynamicModule {
    return {
      module: ClockModule,
      global: true,
      providers: [{ provide: Clock, useValue: clockOf(spec) }],
      exports: [Clock],
    };
  }
}
