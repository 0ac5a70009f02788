import { type DynamicModule, Module } from '@nestjs/common';
import { BusClient } from './bus-client.service.js';
import { BUS_OPTIONS, type BusModuleOptions } from './bus.constants.js';

/** Global: provides `BusClient`, connected to NATS before the app starts listening. */
@Module({})
export class BusModule {
  static forRoot(options: BusModuleOptions): DynamicModule {
    return {
      module: BusModule,
      global: true,
      providers: [{ provide: BUS_OPTIONS, useValue: options }, BusClient],
      exports: [BusClient, BUS_OPTIONS],
    };
  }
}
