import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ServedAdEntity,
  TrackingEventEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import { type TestDatabase, testDatabaseKinds } from '@adfunnel/testing';
import type { DataSource } from 'typeorm';
import { slotClickTotals } from './slot-click-totals.js';

const T0 = Date.UTC(2026, 11, 1, 12);

function servedAd(requestId: string, slot: number, overrides: Partial<ServedAdEntity> = {}): ServedAdEntity {
  return Object.assign(new ServedAdEntity(), {
    id: `${requestId}:${slot}`,
    requestId,
    servedAt: T0,
    userId: 'u00001',
    surface: 'search',
    country: 'US',
    device: 'mobile',
    slot,
    adId: 10 + slot,
    campaignId: 100 + slot,
    advertiserId: 1000 + slot,
    bidType: 'CPC',
    bid: 1,
    price: 0.5,
    pCtr: 0.1,
    pCtrRaw: null,
    pCvr: 0.05,
    pHide: null,
    modelVersion: 'm1',
    degraded: [],
    features: null,
    featureDim: null,
    ...overrides,
  });
}

function event(type: 'impression' | 'click', ad: ServedAdEntity): TrackingEventEntity {
  return Object.assign(new TrackingEventEntity(), {
    eventId: `${type}:${ad.id}`,
    type,
    requestId: ad.requestId,
    userId: ad.userId,
    adId: ad.adId,
    campaignId: ad.campaignId,
    advertiserId: ad.advertiserId,
    slot: ad.slot,
    bidType: ad.bidType,
    price: ad.price,
    cost: 0,
    billingDay: null,
    clickEventId: null,
    conversionId: null,
    servedAt: ad.servedAt,
    occurredAt: ad.servedAt + 1000,
    receivedAt: ad.servedAt + 1000,
  });
}

describe.each(testDatabaseKinds('examination').map((kind) => [kind.name, kind] as const))(
  `${slotClickTotals.name} on %s`,
  (_name, kind) => {
    let target: TestDatabase;
    let ds: DataSource;

    beforeAll(async () => {
      target = await kind.create();
      ds = await openFunnelDatabase(target.database);
      await migrateFunnelDatabase(ds);
      const ads = [
        // r1, r2: slots 0 and 1 shown on search mobile, slot 0 clicked in both, slot 1 once
        servedAd('r1', 0),
        servedAd('r1', 1, { pCtr: 0.05 }),
        servedAd('r2', 0),
        servedAd('r2', 1, { pCtr: 0.05 }),
        // desktop, and one served an hour later
        servedAd('r3', 0, { device: 'desktop', servedAt: T0 + 3_600_000 }),
        // not shown (no impression), and one ranked by retrieval order (no pCtr): neither counts
        servedAd('r4', 0),
        servedAd('r5', 0, { pCtr: null }),
      ];
      await ds.getRepository(ServedAdEntity).insert(ads);
      const shown = ads.filter((ad) => ad.requestId !== 'r4');
      const clicked = [ads[0], ads[2], ads[3]];
      await ds
        .getRepository(TrackingEventEntity)
        .insert([...shown.map((ad) => event('impression', ad)), ...clicked.map((ad) => event('click', ad))]);
    });

    afterAll(async () => {
      await ds?.destroy();
      await target?.drop();
    });

    it('totals the shown, scored ads per surface, device and slot with their clicks and Σ pCtr', async () => {
      const sut = await slotClickTotals(ds, {});
      expect(sut).toEqual([
        { surface: 'search', device: 'desktop', slot: 0, impressions: 1, clicks: 0, expectedClicks: 0.1 },
        { surface: 'search', device: 'mobile', slot: 0, impressions: 2, clicks: 2, expectedClicks: 0.2 },
        { surface: 'search', device: 'mobile', slot: 1, impressions: 2, clicks: 1, expectedClicks: 0.1 },
      ]);
    });

    it('keeps to the window asked for', async () => {
      const sut = await slotClickTotals(ds, { since: T0 + 1, until: T0 + 7_200_000 });
      expect(sut.map((t) => [t.device, t.slot])).toEqual([['desktop', 0]]);
    });
  },
);
