import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  type AdvertiserApiKeyService,
  type ApiKeyVerdict,
  AdvertiserAuthenticator,
  type CatalogAd,
  type CatalogReader,
} from '@adfunnel/catalog';
import type { TrackingEventJob } from '@adfunnel/contracts';
import { FakeCatalogSnapshots, catalogAdFactory, catalogSnapshot } from '@adfunnel/testing';
import { conversionEventId } from '@adfunnel/tracking';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { LoggingQueuesService } from '../queues/logging-queues.service.js';
import type { ClickRecord } from './click-lookup.js';
import type { ConversionRedisState } from './conversion-redis-state.service.js';
import { ConversionRefusal } from './conversion-refusal.js';
import { ConversionsService } from './conversions.service.js';

const NOW = Date.UTC(2026, 11, 1, 12);
const DAY_MS = 86_400_000;
const KEY = `adf_live_${'k'.repeat(43)}`;

function clickFactory(overrides: Partial<ClickRecord> = {}): ClickRecord {
  return {
    eventId: 'c'.repeat(32),
    adId: 7,
    campaignId: 70,
    advertiserId: 3,
    requestId: 'req-1',
    userId: 'u00001',
    slot: 1,
    bidType: 'CPA',
    price: 12,
    servedAt: NOW - DAY_MS - 5000,
    occurredAt: NOW - DAY_MS,
    ...overrides,
  };
}

/** The clicked ad of clickFactory, its CPA campaign attributing conversions for `clickWindowDays`. */
function adFactory(clickWindowDays: number): CatalogAd {
  return catalogAdFactory(7, { id: 70, advertiserId: 3, bidType: 'CPA', bid: 12, clickWindowDays });
}

describe(ConversionsService.name, () => {
  Logger.overrideLogger(false);
  let verify: jest.Mock<(key: string) => Promise<ApiKeyVerdict>>;
  let find: jest.Mock<(clickId: string) => Promise<ClickRecord | null>>;
  let enqueueEvent: jest.Mock<(job: TrackingEventJob) => Promise<string>>;
  let markAccepted: jest.Mock<(eventId: string) => Promise<boolean>>;
  let countRejection: jest.Mock<(reason: string, at: number) => Promise<void>>;
  let existsBy: jest.Mock<() => Promise<boolean>>;
  let findAd: jest.Mock<(id: number) => Promise<CatalogAd | null>>;
  let snapshots: FakeCatalogSnapshots;
  let sut: ConversionsService;

  const body = (overrides: Record<string, unknown> = {}) => ({
    clickId: 'c'.repeat(32),
    conversionId: 'order-1',
    ...overrides,
  });
  const refusalOf = async (run: Promise<unknown>) => {
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConversionRefusal);
    return error as ConversionRefusal;
  };

  beforeEach(() => {
    verify = jest.fn(() => Promise.resolve<ApiKeyVerdict>({ valid: true, advertiserId: 3, keyHash: 'h' }));
    find = jest.fn(() => Promise.resolve<ClickRecord | null>(clickFactory()));
    enqueueEvent = jest.fn((job: TrackingEventJob) => Promise.resolve(job.eventId));
    markAccepted = jest.fn(() => Promise.resolve(true));
    countRejection = jest.fn(() => Promise.resolve());
    existsBy = jest.fn(() => Promise.resolve(false));
    findAd = jest.fn(() => Promise.resolve<CatalogAd | null>(adFactory(7)));
    snapshots = new FakeCatalogSnapshots(catalogSnapshot('v1', []));
    sut = new ConversionsService(
      new AdvertiserAuthenticator({ verify } as unknown as AdvertiserApiKeyService),
      { find },
      { enqueueEvent } as unknown as LoggingQueuesService,
      { markAccepted, countRejection } as unknown as ConversionRedisState,
      snapshots.asService(),
      { findAd } as unknown as CatalogReader,
      { getRepository: () => ({ existsBy }) } as unknown as DataSource,
      { now: () => NOW },
    );
  });

  it('queues the conversion as an event of the clicked ad, keyed by the advertiser and its conversion id', async () => {
    await expect(sut.accept(`Bearer ${KEY}`, body())).resolves.toEqual({
      accepted: true,
      eventId: conversionEventId(3, 'order-1'),
      duplicate: false,
    });
    expect(verify).toHaveBeenCalledWith(KEY);
    expect(enqueueEvent).toHaveBeenCalledWith({
      eventId: conversionEventId(3, 'order-1'),
      type: 'conversion',
      requestId: 'req-1',
      userId: 'u00001',
      adId: 7,
      campaignId: 70,
      advertiserId: 3,
      slot: 1,
      bidType: 'CPA',
      price: 12,
      servedAt: NOW - DAY_MS - 5000,
      occurredAt: NOW,
      clickEventId: 'c'.repeat(32),
      conversionId: 'order-1',
    });
    expect(countRejection).not.toHaveBeenCalled();
  });

  it('answers duplicate when the conversion was marked before, or is already stored though Redis forgot it', async () => {
    markAccepted.mockResolvedValueOnce(false);
    expect((await sut.accept(`Bearer ${KEY}`, body(), NOW)).duplicate).toBe(true);
    existsBy.mockResolvedValueOnce(true);
    expect((await sut.accept(`Bearer ${KEY}`, body(), NOW)).duplicate).toBe(true);
    expect(enqueueEvent).toHaveBeenCalledTimes(2);
  });

  it('takes occurredAt as ISO 8601 or epoch ms and holds it to the campaign window of the catalog', async () => {
    findAd.mockResolvedValue(adFactory(1));
    const iso = new Date(NOW - DAY_MS + 3_600_000).toISOString();
    await expect(sut.accept(`Bearer ${KEY}`, body({ occurredAt: iso }), NOW)).resolves.toMatchObject({
      accepted: true,
    });
    expect(enqueueEvent.mock.calls[0][0].occurredAt).toBe(NOW - DAY_MS + 3_600_000);
    await expect(sut.accept(`Bearer ${KEY}`, body({ occurredAt: NOW }), NOW)).resolves.toMatchObject({
      accepted: true,
    });
    const late = await refusalOf(sut.accept(`Bearer ${KEY}`, body({ occurredAt: NOW + 1 }), NOW));
    expect(late.reason).toBe('outside_window');
    expect(late.message).toContain('campaign 70 attributes conversions for 1 days');
  });

  it('falls back to the default 7-day window for an ad that left the catalog', async () => {
    findAd.mockResolvedValue(null);
    find.mockResolvedValue(clickFactory({ occurredAt: NOW - 6 * DAY_MS }));
    await expect(sut.accept(`Bearer ${KEY}`, body(), NOW)).resolves.toMatchObject({ accepted: true });
    find.mockResolvedValue(clickFactory({ occurredAt: NOW - 8 * DAY_MS }));
    expect((await refusalOf(sut.accept(`Bearer ${KEY}`, body(), NOW))).reason).toBe('outside_window');
  });

  it.each([
    ['no header', undefined, 'missing_credentials', 'unauthenticated'],
    ['an empty header', '', 'missing_credentials', 'unauthenticated'],
    ['another scheme', `Token ${KEY}`, 'invalid_credentials', 'unauthenticated'],
    ['two values', [`Bearer ${KEY}`, `Bearer ${KEY}`], 'invalid_credentials', 'unauthenticated'],
  ])('refuses %s, counts it, and queues nothing', async (_label, authorization, reason, code) => {
    const refusal = await refusalOf(sut.accept(authorization, body(), NOW));
    expect([refusal.reason, refusal.code]).toEqual([reason, code]);
    expect(countRejection).toHaveBeenCalledWith(reason, NOW);
    expect(enqueueEvent).not.toHaveBeenCalled();
  });

  it('checks the key before the body, so an anonymous caller learns nothing about the click', async () => {
    verify.mockResolvedValue({ valid: false, reason: 'revoked' });
    const refusal = await refusalOf(sut.accept(`Bearer ${KEY}`, { nonsense: true }, NOW));
    expect(refusal.reason).toBe('invalid_credentials');
    expect(find).not.toHaveBeenCalled();
  });

  it.each([
    ['an unknown click', () => find.mockResolvedValue(null), 'unknown_click', 'not_found'],
    [
      "another advertiser's click",
      () => find.mockResolvedValue(clickFactory({ advertiserId: 4 })),
      'wrong_advertiser',
      'forbidden',
    ],
    ['a malformed body', () => undefined, 'invalid_body', 'invalid_request'],
  ])('refuses %s with its reason', async (label, arrange, reason, code) => {
    arrange();
    const request = label === 'a malformed body' ? body({ clickId: 'XYZ' }) : body();
    const refusal = await refusalOf(sut.accept(`Bearer ${KEY}`, request, NOW));
    expect([refusal.reason, refusal.code]).toEqual([reason, code]);
    expect(countRejection).toHaveBeenCalledWith(reason, NOW);
    expect(enqueueEvent).not.toHaveBeenCalled();
  });

  it('refuses a conversion dated more than a few minutes ahead of now', async () => {
    const refusal = await refusalOf(sut.accept(`Bearer ${KEY}`, body({ occurredAt: NOW + 600_000 }), NOW));
    expect(refusal.reason).toBe('invalid_body');
    expect(refusal.message).toContain('is in the future');
    await expect(sut.accept(`Bearer ${KEY}`, body({ occurredAt: NOW + 60_000 }), NOW)).resolves.toMatchObject(
      {
        accepted: true,
      },
    );
  });
});
