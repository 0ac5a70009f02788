import { randomUUID } from 'node:crypto';
import {
  AdfunnelError,
  type EventType,
  JobNames,
  persistJobOptions,
  Queues,
  type ServedRecordJob,
  type TrackingEventJob,
  type TrackingEventsJob,
} from '@adfunnel/contracts';
import { InjectConfig } from '@adfunnel/platform';
import { InjectQueue } from '@nestjs/bull';
import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { JobCounts, Queue } from 'bull';
import type { LoggingConfig } from '../config.js';

/** Events that go in jobs of several; a click or a conversion is a job of its own, found by its event id. */
const BATCHED: ReadonlySet<EventType> = new Set<EventType>(['impression', 'hide']);
/** A job's worth of events at most; more wait for the next add. */
const MAX_EVENTS_PER_JOB = 200;
/**
 * How long the first event of a job waits for others before its add starts. Each job costs bull
 * three Redis scripts and the worker a transaction, whatever its size; at a few hundred impressions a
 * second, 3 ms gathers several per job, and an impression is answered up to 3 ms later.
 */
const GATHER_MS = 3;

interface PendingEvent {
  event: TrackingEventJob;
  acceptedAt: number;
  resolve(): void;
  reject(error: unknown): void;
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/**
 * The producer side of the events queue (the gateway adds the served records itself), and the depth
 * of both. A click or a conversion is a job whose id is the event id, so bull refuses a second copy
 * while the first is still queued (and a conversion finds its click there). Impressions and hides,
 * most of the traffic, are added together: those accepted while an add is in flight (or within
 * GATHER_MS of the first) go in the next job, so a busy endpoint makes fewer, larger jobs and the
 * workers store each job in one transaction. The workers' insert ignores an event stored before.
 */
@Injectable()
export class LoggingQueuesService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(LoggingQueuesService.name);

  private waiting: PendingEvent[] = [];
  private adding: Promise<void> | undefined;

  constructor(
    @InjectConfig() private readonly config: LoggingConfig,
    @InjectQueue(Queues.events) private readonly events: Queue<TrackingEventJob | TrackingEventsJob>,
    @InjectQueue(Queues.served) private readonly served: Queue<ServedRecordJob>,
  ) {}

  /** Resolves once Redis holds the job, so an accepted event survives a crash of this process. */
  async enqueueEvent(job: TrackingEventJob): Promise<string> {
    if (BATCHED.has(job.type)) {
      await new Promise<void>((resolve, reject) => {
        this.waiting.push({ event: job, acceptedAt: Date.now(), resolve, reject });
        this.startAdding();
      });
    } else {
      await this.add(this.events, JobNames.persistEvent, job, job.eventId);
    }
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

  private startAdding(): void {
    this.adding ??= this.addWaiting().finally(() => {
      this.adding = undefined;
      if (this.waiting.length > 0) this.startAdding();
    });
  }

  /**
   * One add at a time, each with what waited for it. An event waits at most LOGGING_ENQUEUE_TIMEOUT_MS
   * in all: its job's add gets what is left of that since the oldest event in it was accepted.
   */
  private async addWaiting(): Promise<void> {
    await new Promise<void>((resolve) => setTimeout(resolve, GATHER_MS));
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_EVENTS_PER_JOB);
      const jobId = `events:${randomUUID()}`;
      const leftMs = batch[0].acceptedAt + this.config.LOGGING_ENQUEUE_TIMEOUT_MS - Date.now();
      try {
        if (leftMs <= 0) throw this.notAccepted(this.events, `job ${jobId}`);
        await this.add(
          this.events,
          JobNames.persistEvents,
          { events: batch.map((p) => p.event) },
          jobId,
          leftMs,
        );
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }

  private async add<T>(
    queue: Queue<T>,
    name: string,
    data: T,
    jobId: string,
    timeoutMs = this.config.LOGGING_ENQUEUE_TIMEOUT_MS,
  ): Promise<void> {
    const options = persistJobOptions(jobId, this.config.LOGGING_JOB_ATTEMPTS);
    await this.withTimeout(queue, `job ${jobId}`, queue.add(name, data, options), timeoutMs);
  }

  private notAccepted<T>(queue: Queue<T>, what: string): AdfunnelError {
    return new AdfunnelError(
      'unavailable',
      `queue ${queue.name} did not accept ${what} within ${this.config.LOGGING_ENQUEUE_TIMEOUT_MS} ms`,
    );
  }

  private async withTimeout<T>(
    queue: Queue<T>,
    what: string,
    adding: Promise<unknown>,
    timeoutMs: number,
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.notAccepted(queue, what)), timeoutMs);
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
