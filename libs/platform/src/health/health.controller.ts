import {
  Controller,
  Get,
  type OnApplicationBootstrap,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { HEALTH_PROBE_TIMEOUT_MS, type HealthProbe, RegisterHealthProbe } from './health-probe.js';

/** GET /health: 200 `{ status: 'ok', ... }` when every probe is up, else 503 with the failing probes. */
@Controller('health')
export class HealthController implements OnApplicationBootstrap {
  private probes: HealthProbe[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly discovery: DiscoveryService,
  ) {}

  onApplicationBootstrap(): void {
    const instances = this.discovery
      .getProviders({ metadataKey: RegisterHealthProbe.KEY })
      .map((wrapper) => wrapper.instance as HealthProbe | undefined)
      .filter((probe): probe is HealthProbe => probe !== undefined);
    this.probes = [...new Set(instances)];
  }

  @Get()
  @HealthCheck()
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check(this.probes.map((probe) => () => this.run(probe)));
    } catch (err) {
      // Terminus reports "down" as a 503 exception; answer its report as is rather than as an error body.
      if (!(err instanceof ServiceUnavailableException)) throw err;
      void reply.status(503);
      return err.getResponse() as HealthCheckResult;
    }
  }

  private async run(probe: HealthProbe): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(probe.name);
    try {
      const details = await withTimeout(probe.check(), HEALTH_PROBE_TIMEOUT_MS, probe.name);
      const { status: _ignored, ...data } = details;
      return indicator.up(data);
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
