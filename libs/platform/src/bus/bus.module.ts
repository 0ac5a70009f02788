import { type DynamicModule, Module } from '@nestjs/common';
import { BusClient } from './bus-client.service.js';
import { BUS_OPTIONS, type BusModuleOptions } from './bus.constants.js';
import { NatsProbe } from '../health/nats.probe.js';

/** Global: provides `BusClient`, connected to NATS before the app starts listening, and its health probe. */
@Module({})
export class BusModule {
  static forRoot(options: BusModuleOptions): DynamicModule {
    return {
      module: BusModule,
      global: true,
      providers: [{ provide: BUS_OPTIONS, useValue: options }, BusClient, NatsProbe],
      exports: [BusClient, BUS_OPTIONS],
    };
  }
}
