import {
  AdfunnelError,
  JobNames,
  persistJobOptions,
  Queues,
  type ServedRecordJob,
  type TrackingEventJob,
} from '@adfunnel/contracts';
import { InjectConfig } from '@adfunnel/platform';
import { InjectQueue } from '@nestjs/bull';
import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { JobCounts, Queue } from 'bull';
import type { LoggingConfig } from '../config.js';

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/**
 * The producer side of the events queue (the gateway adds the served records itself), and the depth
 * of both. A job id is the event id, so bull refuses a second copy while the first is still queued,
 * and the workers' insert ignores one that arrives later.
 */
@Injectable()
export class LoggingQueuesService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(LoggingQueuesService.name);

  constructor(
    @InjectConfig() private readonly config: LoggingConfig,
    @InjectQueue(Queues.events) private readonly events: Queue<TrackingEventJob>,
    @InjectQueue(Queues.served) private readonly served: Queue<ServedRecordJob>,
  ) {}

  /** Resolves once Redis holds the job, so an accepted event survives a crash of this process. */
  async enqueueEvent(job: TrackingEventJob): Promise<string> {
    await this.add(this.events, JobNames.persistEvent, job, job.eventId);
    return job.eventId;
  }

  async depth(): Promise<Record<'events' | 'served', QueueDepth>> {
    const [events, served] = await Promise.all([this.events.getJobCounts(), this.served.getJobCounts()]);
    return { events: depthOf(events), served: depthOf(served) };
  }

  /**
   * Runs before the HTTP server and the database close: this worker takes no new jobs and waits for the
   * active ones to be stored. Producers keep working until the HTTP server has drained, and bull closes
   * the queues afterwards; jobs still waiting stay in Redis for the next worker.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.logger.log('pausing workers and waiting for active jobs to finish');
    await Promise.all([this.events.pause(true), this.served.pause(true)]);
    this.logger.log('workers stopped');
  }

  private async add<T>(queue: Queue<T>, name: string, data: T, jobId: string): Promise<void> {
    const options = persistJobOptions(jobId, this.config.LOGGING_JOB_ATTEMPTS);
    await this.withTimeout(queue, `job ${jobId}`, queue.add(name, data, options));
  }

  private async withTimeout<T>(queue: Queue<T>, what: string, adding: Promise<unknown>): Promise<void> {
    const timeoutMs = this.config.LOGGING_ENQUEUE_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AdfunnelError(
              'unavailable',
              `queue ${queue.name} did not accept ${what} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([adding, timeout]);
    } catch (error) {
      if (error instanceof AdfunnelError) throw error;
      this.logger.error(`queue ${queue.name} refused ${what}: ${(error as Error).message}`);
      throw new AdfunnelError('unavailable', `queue ${queue.name} is unavailable`);
    } finally {
      clearTimeout(timer);
    }
  }
}

function depthOf(counts: JobCounts): QueueDepth {
  return { waiting: counts.waiting, active: counts.active, delayed: counts.delayed, failed: counts.failed };
}
