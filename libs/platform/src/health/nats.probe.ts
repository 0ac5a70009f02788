import { Injectable } from '@nestjs/common';
import { BusClient } from '../bus/bus-client.service.js';
import { type HealthProbe, RegisterHealthProbe } from './health-probe.js';

/** NATS is up when the bus client is connected and the server answers a ping. Needs `BusModule`. */
@Injectable()
@RegisterHealthProbe()
export class NatsProbe implements HealthProbe {
  readonly name = 'nats';

  constructor(private readonly bus: BusClient) {}

  async check(): Promise<Record<string, unknown>> {
    if (!this.bus.isConnected()) throw new Error('not connected to NATS');
    return { rttMs: await this.bus.rtt() };
  }
}
