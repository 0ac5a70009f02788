import type { TrackingEventJob } from '@adfunnel/contracts';
import {
  AdvertiserAuthenticator,
  CatalogReader,
  CatalogSnapshotService,
  CredentialsError,
} from '@adfunnel/catalog';
import { TrackingEventEntity } from '@adfunnel/event-store';
import { Clock, MISSING_JSON_BODY_MESSAGE, formatZodError } from '@adfunnel/platform';
import { DEFAULT_CLICK_WINDOW_DAYS, clickWindowPlacement, conversionEventId } from '@adfunnel/tracking';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LoggingQueuesService } from '../queues/logging-queues.service.js';
import { type ClickRecord, ClickLookup } from './click-lookup.js';
import {
  type ConversionAccepted,
  type ConversionRequest,
  ConversionRequestSchema,
} from './conversion.dto.js';
import { ConversionRedisState } from './conversion-redis-state.service.js';
import { ConversionRefusal } from './conversion-refusal.js';

/** Clocks of advertisers' servers disagree with ours by a little; a conversion further ahead is an error. */
const MAX_CLOCK_AHEAD_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

/**
 * The advertiser's conversion API: authenticated by its API key, attributed to one of our clicks by
 * the click id, inside the campaign's click window, queued once per (advertiser, conversion id).
 * Every refusal is answered with what was wrong and counted by reason; nothing refused is billed.
 */
@Injectable()
export class ConversionsService {
  private readonly logger = new Logger(ConversionsService.name);

  constructor(
    private readonly auth: AdvertiserAuthenticator,
    private readonly clicks: ClickLookup,
    private readonly queues: LoggingQueuesService,
    private readonly state: ConversionRedisState,
    private readonly snapshots: CatalogSnapshotService,
    private readonly reader: CatalogReader,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async accept(authorization: unknown, body: unknown, now = this.clock.now()): Promise<ConversionAccepted> {
    try {
      return await this.attribute(authorization, body, now);
    } catch (error) {
      if (error instanceof ConversionRefusal) {
        await this.state.countRejection(error.reason, now);
        this.logger.log(`conversion refused (${error.reason}): ${error.message}`);
      }
      throw error;
    }
  }

  private async attribute(authorization: unknown, body: unknown, now: number): Promise<ConversionAccepted> {
    const advertiserId = await this.authenticate(authorization);
    const request = parseBody(body);
    const click = await this.clicks.find(request.clickId);
    if (click === null) {
      throw new ConversionRefusal(
        'unknown_click',
        `click ${request.clickId} is unknown: no click of ours has this adf_click_id`,
      );
    }
    if (click.advertiserId !== advertiserId) {
      throw new ConversionRefusal(
        'wrong_advertiser',
        `click ${click.eventId} was on an ad of another advertiser; this API key belongs to advertiser ${advertiserId}`,
      );
    }
    const occurredAt = request.occurredAt ?? now;
    if (occurredAt > now + MAX_CLOCK_AHEAD_MS) {
      throw new ConversionRefusal(
        'invalid_body',
        `occurredAt ${new Date(occurredAt).toISOString()} is in the future (now ${new Date(now).toISOString()})`,
      );
    }
    await this.checkWindow(click, occurredAt);

    const job = conversionJob(click, advertiserId, request.conversionId, occurredAt);
    const storedBefore = await this.dataSource
      .getRepository(TrackingEventEntity)
      .existsBy({ eventId: job.eventId });
    await this.queues.enqueueEvent(job);
    const duplicate = !(await this.state.markAccepted(job.eventId)) || storedBefore;
    this.logger.log(
      `conversion ${job.eventId} (${request.conversionId}) of advertiser ${advertiserId} for click ${click.eventId} ` +
        (duplicate ? 'already accepted; counted once' : 'accepted'),
    );
    return { accepted: true, eventId: job.eventId, duplicate };
  }

  private async authenticate(authorization: unknown): Promise<number> {
    try {
      return await this.auth.advertiserOf(authorization);
    } catch (error) {
      if (error instanceof CredentialsError) throw new ConversionRefusal(error.reason, error.message);
      throw error;
    }
  }

  private async checkWindow(click: ClickRecord, occurredAt: number): Promise<void> {
    const windowDays = await this.clickWindowDaysOf(click);
    const placement = clickWindowPlacement(click.occurredAt, occurredAt, windowDays);
    if (placement === 'inside') return;
    const clickedAt = new Date(click.occurredAt).toISOString();
    throw new ConversionRefusal(
      'outside_window',
      placement === 'before_click'
        ? `conversion at ${new Date(occurredAt).toISOString()} is before its click at ${clickedAt}`
        : `conversion at ${new Date(occurredAt).toISOString()} is ${((occurredAt - click.occurredAt) / DAY_MS).toFixed(1)} days after ` +
            `its click at ${clickedAt}; campaign ${click.campaignId} attributes conversions for ${windowDays} days`,
    );
  }

  private async clickWindowDaysOf(click: ClickRecord): Promise<number> {
    const ad = this.snapshots.snapshot().byId.get(click.adId) ?? (await this.reader.findAd(click.adId));
    return ad !== null && ad.campaignId === click.campaignId
      ? ad.campaign.clickWindowDays
      : DEFAULT_CLICK_WINDOW_DAYS;
  }
}

function parseBody(body: unknown): ConversionRequest {
  if (body === undefined) throw new ConversionRefusal('invalid_body', MISSING_JSON_BODY_MESSAGE);
  const parsed = ConversionRequestSchema.safeParse(body);
  if (!parsed.success) throw new ConversionRefusal('invalid_body', formatZodError(parsed.error));
  return parsed.data;
}

function conversionJob(
  click: ClickRecord,
  advertiserId: number,
  conversionId: string,
  occurredAt: number,
): TrackingEventJob {
  return {
    eventId: conversionEventId(advertiserId, conversionId),
    type: 'conversion',
    requestId: click.requestId,
    userId: click.userId,
    adId: click.adId,
    campaignId: click.campaignId,
    advertiserId,
    slot: click.slot,
    bidType: click.bidType,
    price: click.price,
    servedAt: click.servedAt,
    occurredAt,
    clickEventId: click.eventId,
    conversionId,
    ...(click.budgetSlice === undefined ? {} : { budgetSlice: click.budgetSlice }),
  };
}
