import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { BidType, Surface } from '@adfunnel/contracts';
import { ServedAdEntity, TrackingEventEntity } from '@adfunnel/event-store';
import { type TestStage, deleteRedisKeys, testDatabaseKinds, testRunId } from '@adfunnel/testing';
import { DataSource } from 'typeorm';
import { adFactory, seedAcmeCatalog } from '../testing/acme-catalog.js';
import { startLoggingStage } from '../testing/logging-test-stage.js';
import type { CalibrationMonitor } from './calibration-report.service.js';

const SECRET = 'calibration-int-spec-secret-0123456789';
const ADMIN_TOKEN = 'calibration-int-spec-admin-token-0123';

interface Served {
  surface: Surface;
  bidType: BidType;
  modelVersion: string | null;
  slot: number;
  pCtr: number | null;
  pCtrRaw: number | null;
  clicked: boolean;
  servedAt?: number;
  /** Request ids start with this (default `req-`). */
  requestId?: string;
}

/** `n` served ads alike, the first `clicks` of them clicked. */
function served(n: number, clicks: number, ad: Omit<Served, 'clicked'>): Served[] {
  return Array.from({ length: n }, (_, i) => ({ ...ad, clicked: i < clicks }));
}

function rowsOf(ads: Served[], now: number): { served: ServedAdEntity[]; clicks: TrackingEventEntity[] } {
  const servedRows: ServedAdEntity[] = [];
  const clicks: TrackingEventEntity[] = [];
  for (const ad of ads) {
    const requestId = `${ad.requestId ?? 'req-'}${randomUUID()}`;
    const servedAt = ad.servedAt ?? now - 60_000;
    const common = { requestId, userId: 'u00001', adId: 42, campaignId: 10, advertiserId: 1, slot: ad.slot };
    servedRows.push({
      ...common,
      id: `${requestId}:${ad.slot}`,
      servedAt,
      surface: ad.surface,
      country: 'US',
      device: 'mobile',
      bidType: ad.bidType,
      bid: 1,
      price: 0.5,
      pCtr: ad.pCtr,
      pCtrRaw: ad.pCtrRaw,
      pCvr: 0.1,
      pHide: null,
      modelVersion: ad.modelVersion,
      degraded: [],
      features: null,
      featureDim: null,
    });
    if (ad.clicked) {
      clicks.push({
        ...common,
        eventId: `click-${requestId}`,
        type: 'click',
        bidType: ad.bidType,
        price: 0.5,
        cost: 0.5,
        billingDay: null,
        clickEventId: null,
        conversionId: null,
        budgetSlice: null,
        servedAt,
        occurredAt: servedAt + 1_000,
        receivedAt: servedAt + 1_000,
      });
    }
  }
  return { served: servedRows, clicks };
}

describe.each(testDatabaseKinds('calibration').map((b) => [b.name, b] as const))(
  'GET /v1/reports/calibration on %s',
  (_name, backend) => {
    const prefix = testRunId('calibration_test');
    let drop: (() => Promise<void>) | undefined;
    let stage: TestStage;

    const get = (query = '', authorization: string | null = `Bearer ${ADMIN_TOKEN}`) =>
      fetch(`${stage.url}/v1/reports/calibration${query}`, {
        headers: authorization === null ? {} : { authorization },
      });

    beforeAll(async () => {
      const target = await backend.create();
      drop = target.drop;
      await seedAcmeCatalog(target.database, { ads: [adFactory({ id: 42, campaignId: 10 })] });
      stage = await startLoggingStage(prefix, { ...target.env, TRACKING_SECRET: SECRET, ADMIN_TOKEN });
      const now = Date.now();
      // home_feed, CPC, calibrated: served pCtr 0.1 (the model said 0.05); slot 0 is clicked at
      // 10%, slot 1 at 5% (examined half as often). search, CPM, uncalibrated: the model says 0.04
      // and slot 0 is clicked at 5%.
      const { served: servedRows, clicks } = rowsOf(
        [
          ...served(200, 20, {
            surface: 'home_feed',
            bidType: 'CPC',
            modelVersion: 'v2',
            slot: 0,
            pCtr: 0.1,
            pCtrRaw: 0.05,
          }),
          ...served(200, 10, {
            surface: 'home_feed',
            bidType: 'CPC',
            modelVersion: 'v2',
            slot: 1,
            pCtr: 0.1,
            pCtrRaw: 0.05,
          }),
          ...served(200, 10, {
            surface: 'search',
            bidType: 'CPM',
            modelVersion: 'v1',
            slot: 0,
            pCtr: 0.04,
            pCtrRaw: null,
          }),
          // Not scored by ranking, or served before the window: left out.
          ...served(50, 50, {
            surface: 'search',
            bidType: 'CPM',
            modelVersion: null,
            slot: 0,
            pCtr: null,
            pCtrRaw: null,
          }),
          ...served(5, 1, {
            surface: 'search',
            bidType: 'CPC',
            modelVersion: 'v3',
            slot: 0,
            pCtr: 0.02,
            pCtrRaw: null,
            requestId: 'req-run7-',
            servedAt: now - 10_800_000,
          }),
          ...served(50, 0, {
            surface: 'search',
            bidType: 'CPM',
            modelVersion: 'v1',
            slot: 0,
            pCtr: 0.9,
            pCtrRaw: null,
            servedAt: now - 7_200_000,
          }),
        ],
        now,
      );
      const db = stage.app.get(DataSource);
      await db.getRepository(ServedAdEntity).insert(servedRows);
      await db.getRepository(TrackingEventEntity).insert(clicks);
    });

    afterAll(async () => {
      await stage?.close();
      await deleteRedisKeys(prefix);
      await drop?.();
    });

    it('gives predicted / observed per surface, bid type and model version, position accounted for', async () => {
      const response = await get();
      expect(response.status).toBe(200);
      const body = (await response.json()) as CalibrationMonitor;
      expect(body.window.impressions).toBe(600);
      expect(body.window.calibratedShare).toBeCloseTo(400 / 600, 6);

      const { served: sut, model } = body;
      expect(sut.examination.home_feed![0]).toBe(1);
      // Platt's pull towards the identity (one pseudo-observation) moves the estimate a little.
      expect(sut.examination.home_feed![1]).toBeCloseTo(0.5, 1);
      const bySurface = Object.fromEntries(sut.bySurface.map((g) => [g.key, g]));
      expect(bySurface.home_feed).toMatchObject({ impressions: 400, clicks: 30 });
      expect(bySurface.home_feed.ratio).toBeCloseTo(1, 2);
      expect(bySurface.home_feed.slot0).toMatchObject({ impressions: 200, clicks: 20, ratio: 1 });
      expect(bySurface.search.ratio).toBeCloseTo(0.8, 3);
      const [lo, hi] = bySurface.search.ci95!;
      expect(lo).toBeLessThan(0.8);
      expect(hi).toBeGreaterThan(0.8);
      expect(sut.byBidType.map((g) => [g.key, g.impressions])).toEqual([
        ['CPC', 400],
        ['CPM', 200],
      ]);
      expect(sut.byModelVersion.map((g) => g.key)).toEqual(['v1', 'v2']);
      expect(sut.byModelVersion[0].ratio).toBeCloseTo(0.8, 3);
      expect(sut.byModelVersion[1].ratio).toBeCloseTo(1, 2);
      // The model's own pCTR on the same impressions: half the served one on home_feed.
      expect(model.bySurface.find((g) => g.key === 'home_feed')!.ratio).toBeCloseTo(0.5, 2);

      const bin = sut.reliability.find((b) => b.lo <= 0.1 && 0.1 < b.hi)!;
      expect(bin).toMatchObject({ impressions: 400, clicks: 30, meanPredicted: 0.1 });
      expect(bin.examined).toBeCloseTo(300, -1);
      expect(bin.observed).toBeCloseTo(0.1, 2);
    });

    it('takes the window and the number of impressions from the query', async () => {
      const wide = (await (await get('?windowMs=86400000')).json()) as CalibrationMonitor;
      expect(wide.window.impressions).toBe(655);
      const few = (await (await get('?limit=10')).json()) as CalibrationMonitor;
      expect(few.window.impressions).toBe(10);
      const calibrated = (await (await get('?calibrated=true')).json()) as CalibrationMonitor;
      expect(calibrated.window).toMatchObject({ impressions: 400, calibratedShare: 1 });
      const v1 = (await (await get('?modelVersion=v1&calibrated=false')).json()) as CalibrationMonitor;
      expect(v1.served.bySurface.map((g) => [g.key, g.impressions])).toEqual([['search', 200]]);
      const run = (await (
        await get('?requestIdPrefix=req-run7-&windowMs=86400000')
      ).json()) as CalibrationMonitor;
      expect(run.window.impressions).toBe(5);
    });

    it('needs the operator token, and says what is wrong with a bad query', async () => {
      expect((await get('', null)).status).toBe(401);
      expect((await get('', 'Bearer not-the-admin-token-at-all-000')).status).toBe(401);
      const bad = await get('?windowMs=soon');
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({
        code: 'invalid_request',
        message: expect.stringContaining('windowMs'),
      });
    });
  },
);
