import { type HealthProbe, InjectConfig, RegisterHealthProbe } from '@adfunnel/platform';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config.js';
import { AdmissionController } from './admission-controller.js';
import { installAdmission } from './admission.hook.js';
import { EventLoopDelaySignal } from './event-loop-delay.js';

/** What the gateway sheds under overload: ad requests only; health checks and docs never. */
export const SHED_ROUTES = ['POST /v1/ads'] as const;

/**
 * The gateway's admission control (GATEWAY_MAX_IN_FLIGHT, GATEWAY_TARGET_LATENCY_MS,
 * GATEWAY_MAX_EVENT_LOOP_DELAY_MS) and its figures on /health (`admission`: in flight, the limit in
 * force, the event loop's delay, admitted and shed by signal),
 * which stays up while shedding: the gateway is working as meant.
 */
@Injectable()
@RegisterHealthProbe()
export class GatewayAdmission implements HealthProbe, OnApplicationShutdown {
  readonly name = 'admission';
  readonly controller: AdmissionController;
  private readonly stopSampling: () => void;

  constructor(@InjectConfig() config: GatewayConfig) {
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
  }

  /** Puts the admission hook in front of SHED_ROUTES; call before the routes are registered. */
  install(instance: FastifyInstance): void {
    installAdmission(instance, this.controller, SHED_ROUTES, new Logger(GatewayAdmission.name));
  }

  check(): Promise<Record<string, unknown>> {
    return Promise.resolve({ ...this.controller.snapshot() });
  }

  onApplicationShutdown(): void {
    this.stopSampling();
  }
}
