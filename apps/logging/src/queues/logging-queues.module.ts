import { Queues } from '@adfunnel/contracts';
import { BullModule } from '@nestjs/bull';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggingQueuesService } from './logging-queues.service.js';

export interface LoggingQueuesOptions {
  redisUrl: string;
  /** Redis key prefix of every queue; tests give each run its own. */
  prefix: string;
}

/**
 * The bull queues of the logging service (Redis). Global so the health probes, which live in
 * HealthModule, can read the queue depth.
 */
@Module({})
export class LoggingQueuesModule {
  static forRoot(options: LoggingQueuesOptions): DynamicModule {
    const queues = BullModule.registerQueue({ name: Queues.events }, { name: Queues.served });
    return {
      module: LoggingQueuesModule,
      global: true,
      imports: [BullModule.forRoot({ url: options.redisUrl, prefix: options.prefix }), queues],
      providers: [LoggingQueuesService],
      exports: [LoggingQueuesService, queues],
    };
  }
}
