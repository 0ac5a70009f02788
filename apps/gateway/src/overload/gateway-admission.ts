import {
  type Counter,
  type HealthProbe,
  InjectConfig,
  Metrics,
  RegisterHealthProbe,
  startAtZero,
} from '@adfunnel/platform';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config.js';
import { AdmissionController, SHED_REASON, SHED_SIGNALS, type ShedSignal } from './admission-controller.js';
import { installAdmission } from './admission.hook.js';
import { EventLoopDelaySignal } from './event-loop-delay.js';

/** What the gateway sheds under overload: ad requests only; health checks and docs never. */
export const SHED_ROUTES = ['POST /v1/ads'] as const;

/**
 * The gateway's admission control (GATEWAY_MAX_IN_FLIGHT, GATEWAY_TARGET_LATENCY_MS,
 * GATEWAY_MAX_EVENT_LOOP_DELAY_MS) and its figures on /health (`admission`: in flight, the limit in
 * force, the event loop's delay, admitted and shed by signal),
 * which stays up while shedding: the gateway is working as meant. On /metrics: requests shed by
 * reason, and the requests in flight and the limit in force, read at each scrape.
 */
@Injectable()
@RegisterHealthProbe()
export class GatewayAdmission implements HealthProbe, OnApplicationShutdown {
  readonly name = 'admission';
  readonly controller: AdmissionController;
  private readonly stopSampling: () => void;
  private readonly shed: Record<ShedSignal, Counter.Internal>;

  constructor(@InjectConfig() config: GatewayConfig, metrics: Metrics) {
    const limits = {
      maxInFlight: config.GATEWAY_MAX_IN_FLIGHT,
      targetLatencyMs: config.GATEWAY_TARGET_LATENCY_MS,
      maxEventLoopDelayMs: config.GATEWAY_MAX_EVENT_LOOP_DELAY_MS,
    };
    if (limits.maxEventLoopDelayMs > 0) {
      const { signal, stop } = EventLoopDelaySignal.start();
      this.controller = new AdmissionController(limits, { delay: signal });
      this.stopSampling = stop;
    } else {
      this.controller = new AdmissionController(limits);
      this.stopSampling = () => undefined;
    }
    this.shed = shedCounters(metrics);
    const controller = this.controller;
    metrics.gauge({
      name: 'adfunnel_gateway_in_flight_requests',
      help: 'Ad requests admitted and not yet answered',
      collect() {
        this.set(controller.snapshot().inFlight);
      },
    });
    metrics.gauge({
      name: 'adfunnel_gateway_in_flight_limit',
      help: 'The in-flight limit in force (adaptive up to GATEWAY_MAX_IN_FLIGHT); 0: no limit',
      collect() {
        this.set(controller.limit);
      },
    });
  }

  /** Puts the admission hook in front of SHED_ROUTES; call before the routes are registered. */
  install(instance: FastifyInstance): void {
    installAdmission(instance, this.controller, SHED_ROUTES, new Logger(GatewayAdmission.name), (signal) =>
      this.shed[signal].inc(),
    );
  }

  check(): Promise<Record<string, unknown>> {
    return Promise.resolve({ ...this.controller.snapshot() });
  }

  onApplicationShutdown(): void {
    this.stopSampling();
  }
}

function shedCounters(metrics: Metrics): Record<ShedSignal, Counter.Internal> {
  const shed = metrics.counter({
    name: 'adfunnel_gateway_admission_shed_total',
    help: 'Ad requests shed by admission control (503 before any work), by reason',
    labelNames: ['reason'],
  });
  return Object.fromEntries(
    SHED_SIGNALS.map((signal) => [signal, startAtZero(shed.labels(SHED_REASON[signal]))]),
  ) as Record<ShedSignal, Counter.Internal>;
}
