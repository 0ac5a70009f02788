import { type DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BusMetricsInterceptor } from './bus-metrics.interceptor.js';
import { BusMetrics } from './bus-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { METRICS_OPTIONS, Metrics, type MetricsOptions } from './metrics.js';

/**
 * Global: the app's `Metrics` registry, GET /metrics, and the metrics every service has: HTTP
 * requests by route, bus requests handled and calls made by pattern (BusClient records its calls
 * when this module is there), and prom-client's process and Node metrics.
 */
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsOptions): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: METRICS_OPTIONS, useValue: options },
        Metrics,
        HttpMetrics,
        BusMetrics,
        { provide: APP_INTERCEPTOR, useClass: BusMetricsInterceptor },
      ],
      exports: [Metrics, BusMetrics],
    };
  }
}
