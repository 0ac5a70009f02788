import { JobNames, Queues, type TrackingEventJob } from '@adfunnel/contracts';
import { EventStore, type RecordedEvent } from '@adfunnel/event-store';
import { Clock, InjectConfig } from '@adfunnel/platform';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { ActivityRecorder } from '../activity/activity-recorder.service.js';
import type { LoggingConfig } from '../config.js';
import { BillingMetrics } from './billing-metrics.js';
import { BillingContexts } from './event-store.providers.js';
import { SpendPublisher } from './spend-publisher.service.js';

/**
 * Worker for `Queues.events`: records each tracking event once, charges it to the ledger, and folds it
 * into the user's activity (only when stored for the first time, so a repeat counts nothing).
 */
@Injectable()
export class EventsProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventsProcessor.name);

  constructor(
    @InjectConfig() private readonly config: LoggingConfig,
    @InjectQueue(Queues.events) private readonly queue: Queue<TrackingEventJob>,
    private readonly store: EventStore,
    private readonly billing: BillingContexts,
    private readonly spend: SpendPublisher,
    private readonly activity: ActivityRecorder,
    private readonly clock: Clock,
    private readonly metrics: BillingMetrics,
  ) {}

  /** Registered here rather than with @Process so the concurrency comes from config. */
  onApplicationBootstrap(): void {
    this.queue
      .process(JobNames.persistEvent, this.config.LOGGING_CONCURRENCY, (job: Job<TrackingEventJob>) =>
        this.handle(job),
      )
      .catch((error: unknown) => this.logger.error(`events worker stopped: ${(error as Error).message}`));
  }

  async persist(job: TrackingEventJob, receivedAt = this.clock.now()): Promise<RecordedEvent> {
    const recorded = await this.store.record(job, await this.billing.of(job), receivedAt);
    this.metrics.recorded(job, recorded);
    await this.spend.published(job, recorded);
    if (recorded.stored) await this.activity.eventStored(job);
    return recorded;
  }

  private async handle(job: Job<TrackingEventJob>): Promise<void> {
    const { eventId, requestId, type } = job.data;
    try {
      const recorded = await this.persist(job.data);
      this.logger.debug(
        recorded.stored
          ? `${type} ${eventId} of request ${requestId} stored; charged ${recorded.chargedMicros} of ${recorded.costMicros} micros`
          : `${type} ${eventId} of request ${requestId} already stored; duplicate ignored`,
      );
    } catch (error) {
      this.logger.warn(
        `${type} ${eventId} of request ${requestId} failed on attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}: ${(error as Error).message}`,
      );
      throw error;
    }
  }
}
