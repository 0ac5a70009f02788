import { type HealthProbe, RegisterHealthProbe } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { LoggingQueuesService } from './logging-queues.service.js';

/** Reports how many jobs wait and how many failed for good; down only when Redis cannot answer. */
@Injectable()
@RegisterHealthProbe()
export class QueueDepthProbe implements HealthProbe {
  readonly name = 'queues';

  constructor(private readonly queues: LoggingQueuesService) {}

  async check(): Promise<Record<string, unknown>> {
    return { ...(await this.queues.depth()) };
  }
}
