import { Queues } from '@adfunnel/contracts';
import { BullModule } from '@nestjs/bull';
import { type DynamicModule, Module } from '@nestjs/common';
import { RedisProbe } from '@adfunnel/platform';
import { LoggingQueuesService } from './logging-queues.service.js';
import { QueueDepthProbe } from './queue-depth.probe.js';
import { QueueMetrics } from './queue-metrics.js';

export interface LoggingQueuesOptions {
  redisUrl: string;
  /** Redis key prefix of every queue; tests give each run its own. */
  prefix: string;
  /** bull's lockDuration and stalledInterval: how soon a killed worker's active jobs run again. */
  stalledMs: number;
}

/**
 * The bull queues of the logging service (Redis), with the health probes of Redis and of the queues,
 * and their metrics.
 */
@Module({})
export class LoggingQueuesModule {
  static forRoot(options: LoggingQueuesOptions): DynamicModule {
    const queues = BullModule.registerQueue(
      { name: Queues.events },
      { name: Queues.served },
      { name: Queues.shadow },
    );
    return {
      module: LoggingQueuesModule,
      imports: [
        BullModule.forRoot({
          url: options.redisUrl,
          prefix: options.prefix,
          settings: { lockDuration: options.stalledMs, stalledInterval: options.stalledMs },
        }),
        queues,
      ],
      providers: [LoggingQueuesService, RedisProbe, QueueDepthProbe, QueueMetrics],
      exports: [LoggingQueuesService, queues],
    };
  }
}
