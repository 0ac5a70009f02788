import { type DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BusClient } from './bus-client.service.js';
import { BusRejectionInterceptor } from './bus-rejection.interceptor.js';
import { BusRejections } from './bus-rejections.js';
import { BUS_OPTIONS, type BusModuleOptions } from './bus.constants.js';
import { NatsProbe } from '../health/nats.probe.js';

/**
 * Global: provides `BusClient`, connected to NATS before the app starts listening, its health probe,
 * and the count of bus messages refused for failing their schema (also on /health).
 */
@Module({})
export class BusModule {
  static forRoot(options: BusModuleOptions): DynamicModule {
    return {
      module: BusModule,
      global: true,
      providers: [
        { provide: BUS_OPTIONS, useValue: options },
        BusClient,
        NatsProbe,
        BusRejections,
        { provide: APP_INTERCEPTOR, useClass: BusRejectionInterceptor },
      ],
      exports: [BusClient, BUS_OPTIONS, BusRejections],
    };
  }
}
