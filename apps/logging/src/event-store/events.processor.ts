import { JobNames, Queues, type TrackingEventJob, type TrackingEventsJob } from '@adfunnel/contracts';
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

type EventsQueueJob = Job<TrackingEventJob | TrackingEventsJob>;

/**
 * Worker for `Queues.events`: records each tracking event once, charges it to the ledger, and folds it
 * into the user's activity (only when stored for the first time, so a repeat counts nothing). A job
 * holds one event (clicks, conversions) or the impressions and hides accepted together, which are
 * stored in one transaction.
 */
@Injectable()
export class EventsProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventsProcessor.name);

  constructor(
    @InjectConfig() private readonly config: LoggingConfig,
    @InjectQueue(Queues.events) private readonly queue: Queue<TrackingEventJob | TrackingEventsJob>,
    private readonly store: EventStore,
    private readonly billing: BillingContexts,
    private readonly spend: SpendPublisher,
    private readonly activity: ActivityRecorder,
    private readonly clock: Clock,
    private readonly metrics: BillingMetrics,
  ) {}

  /**
   * Registered here rather than with @Process so the concurrency comes from config; one handler for
   * both job names, as bull adds up the concurrency of each name's handler.
   */
  onApplicationBootstrap(): void {
    this.queue
      .process('*', this.config.LOGGING_CONCURRENCY, (job: EventsQueueJob) => this.handle(job))
      .catch((error: unknown) => this.logger.error(`events worker stopped: ${(error as Error).message}`));
  }

  async persist(job: TrackingEventJob, receivedAt = this.clock.now()): Promise<RecordedEvent> {
    const recorded = await this.store.record(job, await this.billing.of(job), receivedAt);
    await this.published(job, recorded);
    return recorded;
  }

  /**
   * All of `events` in one transaction. If it fails, each event is tried in its own, so one that
   * cannot be stored does not hold the others back; then the first failure is thrown (the job is
   * retried, and what was stored meanwhile is a duplicate then).
   */
  async persistMany(
    events: readonly TrackingEventJob[],
    receivedAt = this.clock.now(),
  ): Promise<RecordedEvent[]> {
    const items = await Promise.all(
      events.map(async (event) => ({ event, billing: await this.billing.of(event) })),
    );
    let recorded: RecordedEvent[];
    try {
      recorded = await this.store.recordMany(items, receivedAt);
    } catch (error) {
      this.logger.warn(
        `${events.length} events not stored together (${(error as Error).message}); storing them one by one`,
      );
      return this.persistOneByOne(events, receivedAt);
    }
    await Promise.all(events.map((event, i) => this.published(event, recorded[i])));
    return recorded;
  }

  private async persistOneByOne(
    events: readonly TrackingEventJob[],
    receivedAt: number,
  ): Promise<RecordedEvent[]> {
    const recorded: RecordedEvent[] = [];
    let failure: Error | undefined;
    for (const event of events) {
      try {
        recorded.push(await this.persist(event, receivedAt));
      } catch (error) {
        this.logger.warn(`${event.type} ${event.eventId} not stored: ${(error as Error).message}`);
        failure ??= error as Error;
      }
    }
    if (failure !== undefined) throw failure;
    return recorded;
  }

  /** After the event's transaction committed: metrics, the serve-time spend, the user's activity. */
  private async published(event: TrackingEventJob, recorded: RecordedEvent): Promise<void> {
    this.metrics.recorded(event, recorded);
    await this.spend.published(event, recorded);
    if (recorded.stored) await this.activity.eventStored(event);
  }

  private async handle(job: EventsQueueJob): Promise<void> {
    if (job.name === JobNames.persistEvents) return this.handleMany(job as Job<TrackingEventsJob>);
    if (job.name === JobNames.persistEvent) return this.handleOne(job as Job<TrackingEventJob>);
    throw new Error(`events job ${String(job.id)} has unknown name ${job.name}`);
  }

  private async handleOne(job: Job<TrackingEventJob>): Promise<void> {
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

  private async handleMany(job: Job<TrackingEventsJob>): Promise<void> {
    const { events } = job.data;
    try {
      const recorded = await this.persistMany(events);
      const stored = recorded.filter((r) => r.stored).length;
      this.logger.debug(
        `events batch ${String(job.id)}: ${stored} of ${events.length} stored (${events.length - stored} already there)`,
      );
    } catch (error) {
      this.logger.warn(
        `events batch ${String(job.id)} (${events.length} events, first ${events[0]?.eventId}) failed on attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}: ${(error as Error).message}`,
      );
      throw error;
    }
  }
}
