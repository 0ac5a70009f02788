import { JobNames, Queues, type TrackingEventJob } from '@adfunnel/contracts';
import type { TrackingEventEntity } from '@adfunnel/catalog';
import { InjectConfig } from '@adfunnel/platform';
import { eventCost } from '@adfunnel/tracking';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import type { LoggingConfig } from '../config.js';
import { EventStoreService } from './event-store.service.js';

/** Worker for `Queues.events`: stores each tracking event once, with what it costs the advertiser. */
@Injectable()
export class EventsProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventsProcessor.name);

  constructor(
    @InjectConfig() private readonly config: LoggingConfig,
    @InjectQueue(Queues.events) private readonly queue: Queue<TrackingEventJob>,
    private readonly store: EventStoreService,
  ) {}

  /** Registered here rather than with @Process so the concurrency comes from config. */
  onApplicationBootstrap(): void {
    this.queue
      .process(JobNames.persistEvent, this.config.LOGGING_CONCURRENCY, (job: Job<TrackingEventJob>) =>
        this.handle(job),
      )
      .catch((error: unknown) => this.logger.error(`events worker stopped: ${(error as Error).message}`));
  }

  async persist(job: TrackingEventJob, receivedAt = Date.now()): Promise<boolean> {
    const row: TrackingEventEntity = {
      eventId: job.eventId,
      type: job.type,
      requestId: job.requestId,
      userId: job.userId,
      adId: job.adId,
      campaignId: job.campaignId,
      advertiserId: job.advertiserId,
      slot: job.slot,
      bidType: job.bidType,
      price: job.price,
      cost: eventCost(job.type, job.bidType, job.price),
      servedAt: job.servedAt,
      occurredAt: job.occurredAt,
      receivedAt,
    };
    return this.store.insertTrackingEvent(row);
  }

  private async handle(job: Job<TrackingEventJob>): Promise<void> {
    const { eventId, requestId, type } = job.data;
    try {
      const stored = await this.persist(job.data);
      this.logger.debug(
        stored
          ? `${type} ${eventId} of request ${requestId} stored`
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
