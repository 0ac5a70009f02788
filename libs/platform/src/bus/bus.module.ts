import { type DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BusClient } from './bus-client.service.js';
import { BusRejectionInterceptor } from './bus-rejection.interceptor.js';
import { BusRejections } from './bus-rejections.js';
import { BUS_OPTIONS, type BusModuleOptions } from './bus.constants.js';
import { ExpiredRequests } from './expired-requests.js';
import { StageDeadlineInterceptor } from './stage-deadline.interceptor.js';
import { NatsProbe } from '../health/nats.probe.js';

/**
 * Global: provides `BusClient`, connected to NATS before the app starts listening, its health probe,
 * the count of bus messages refused for failing their schema, and of bus requests refused because
 * their deadline had passed (`@RejectExpired`; both on /health).
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
        ExpiredRequests,
        { provide: APP_INTERCEPTOR, useClass: StageDeadlineInterceptor },
      ],
      exports: [BusClient, BUS_OPTIONS, BusRejections, ExpiredRequests],
    };
  }
}
