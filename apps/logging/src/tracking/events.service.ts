import {
  AdfunnelError,
  type EventType,
  type TrackingClaims,
  type TrackingEventJob,
  type TrackingTokenKind,
} from '@adfunnel/contracts';
import { Clock, InjectConfig } from '@adfunnel/platform';
import {
  SignedEventToken,
  TrackingKeyring,
  TrackingTokenError,
  eventId,
  landingUrlWithClickId,
} from '@adfunnel/tracking';
import { Injectable } from '@nestjs/common';
import type { LoggingConfig } from '../config.js';
import { LandingPageService } from './landing-page.service.js';
import { LoggingQueuesService } from '../queues/logging-queues.service.js';

export interface AcceptedEvent {
  eventId: string;
  requestId: string;
  adId: number;
}

export interface AcceptedClick extends AcceptedEvent {
  landingUrl: string;
}

export interface TrackOptions {
  /** A HEAD request (link prefetchers, scanners) is checked but not counted. */
  count: boolean;
}

/** Turns a tracking callback into a queued event: verify the token, then hand the event to bull. */
@Injectable()
export class EventsService {
  private readonly keys: TrackingKeyring;

  constructor(
    @InjectConfig() config: LoggingConfig,
    private readonly queues: LoggingQueuesService,
    private readonly landingPages: LandingPageService,
    private readonly clock: Clock,
  ) {
    this.keys = new TrackingKeyring(config.TRACKING_SECRET, config.TRACKING_PREVIOUS_SECRETS);
  }

  async impression(token: unknown, options: TrackOptions = { count: true }): Promise<AcceptedEvent> {
    return this.track('impression', this.verify(token, 'impression'), options);
  }

  /**
   * "Not interested" on a shown ad: needs nothing else (no click), costs nothing, and is one event per
   * served ad (its id is keyed like the impression's), so a repeat or a double tap is stored once.
   */
  async hide(token: unknown, options: TrackOptions = { count: true }): Promise<AcceptedEvent> {
    return this.track('hide', this.verify(token, 'hide'), options);
  }

  /**
   * The landing URL is resolved first: a click that cannot land is refused, not billed. It carries
   * the click's event id as adf_click_id, which the advertiser posts back with a conversion.
   */
  async click(token: unknown, options: TrackOptions = { count: true }): Promise<AcceptedClick> {
    const claims = this.verify(token, 'click');
    const landingUrl = await this.landingPages.landingUrlOf(claims.a);
    const click = await this.track('click', claims, options);
    return { ...click, landingUrl: landingUrlWithClickId(landingUrl, click.eventId) };
  }

  private async track(
    type: EventType,
    claims: TrackingClaims,
    options: TrackOptions,
  ): Promise<AcceptedEvent> {
    const job = toJob(type, claims, this.clock.now());
    if (options.count) await this.queues.enqueueEvent(job);
    return { eventId: job.eventId, requestId: job.requestId, adId: job.adId };
  }

  private verify(token: unknown, kind: TrackingTokenKind): TrackingClaims {
    if (Array.isArray(token)) {
      throw new AdfunnelError('invalid_request', 'tracking token t must be given once');
    }
    if (typeof token !== 'string' || token.length === 0) {
      throw new AdfunnelError('invalid_request', 'tracking token t is missing');
    }
    try {
      return SignedEventToken.verify(token, this.keys, this.clock.now(), kind);
    } catch (error) {
      if (error instanceof TrackingTokenError) {
        throw new AdfunnelError(
          'invalid_request',
          `invalid tracking token (${error.reason}): ${error.message}`,
          error.reason,
        );
      }
      throw error;
    }
  }
}

function toJob(type: EventType, claims: TrackingClaims, occurredAt: number): TrackingEventJob {
  return {
    eventId: eventId(type, claims),
    type,
    requestId: claims.r,
    userId: claims.u,
    adId: claims.a,
    campaignId: claims.c,
    advertiserId: claims.adv,
    slot: claims.s,
    bidType: claims.bt,
    price: claims.p,
    servedAt: claims.t,
    occurredAt,
    ...(claims.bs === undefined ? {} : { budgetSlice: claims.bs }),
  };
}
