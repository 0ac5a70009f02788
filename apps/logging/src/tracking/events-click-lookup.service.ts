import { Queues, type TrackingEventJob } from '@adfunnel/contracts';
import { TrackingEventEntity } from '@adfunnel/event-store';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { type ClickRecord, ClickLookup } from './click-lookup.js';

/**
 * A click is in the events queue (job id = event id) until its job has stored it, then in the event
 * store. The queue is asked first: a job leaves it only after its row is committed, so a click that
 * is stored in between the two looks is still found.
 */
@Injectable()
export class EventsClickLookup extends ClickLookup {
  constructor(
    @InjectQueue(Queues.events) private readonly queue: Queue<TrackingEventJob>,
    private readonly dataSource: DataSource,
  ) {
    super();
  }

  async find(clickId: string): Promise<ClickRecord | null> {
    const queued = await this.queue.getJob(clickId);
    if (queued !== null && queued.data.type === 'click') return clickOf(queued.data);
    const stored = await this.dataSource
      .getRepository(TrackingEventEntity)
      .findOneBy({ eventId: clickId, type: 'click' });
    return stored === null ? null : clickOf(stored);
  }
}

function clickOf(event: TrackingEventJob | TrackingEventEntity): ClickRecord {
  return {
    eventId: event.eventId,
    adId: event.adId,
    campaignId: event.campaignId,
    advertiserId: event.advertiserId,
    requestId: event.requestId,
    userId: event.userId,
    slot: event.slot,
    bidType: event.bidType,
    price: event.price,
    servedAt: event.servedAt,
    occurredAt: event.occurredAt,
    ...(event.budgetSlice == null ? {} : { budgetSlice: event.budgetSlice }),
  };
}
