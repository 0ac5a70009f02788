import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  JobNames,
  Queues,
  type ServedRecordJob,
  type ShadowScoreJob,
  type ShadowScoreRecord,
  persistJobOptions,
} from '@adfunnel/contracts';
import { ShadowScoreEntity, TrackingEventEntity } from '@adfunnel/event-store';
import { type TestStage, deleteRedisKeys, eventually, testDatabaseKinds, testRunId } from '@adfunnel/testing';
import { trackingUrls } from '@adfunnel/tracking';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { adFactory, seedAcmeCatalog } from '../testing/acme-catalog.js';
import { startLoggingStage } from '../testing/logging-test-stage.js';
import { servedAdClaimsFactory } from '../testing/served-ad-claims.factory.js';

const SECRET = 'shadow-report-int-spec-secret-0123456789';
const ADMIN_TOKEN = `admin-${randomUUID()}`;

function shadowRecordFactory(overrides: Partial<ShadowScoreRecord> = {}): ShadowScoreRecord {
  return {
    requestId: `req-${randomUUID()}`,
    scoredAt: Date.now(),
    surface: 'home_feed',
    liveVersion: 'live-v1',
    shadowVersion: 'shadow-v2',
    adIds: [42, 43, 44],
    livePCtr: [0.2, 0.1, 0.3],
    livePCvr: [0.05, 0.05, 0.05],
    shadowPCtr: [0.6, 0.05, 0.1],
    shadowPCvr: [0.04, 0.04, 0.04],
    ...overrides,
  };
}

describe.each(testDatabaseKinds('shadow_report').map((b) => [b.name, b] as const))(
  'shadow log and GET /v1/reports/shadow on %s',
  (_name, backend) => {
    const prefix = testRunId('shadow_report_test');
    let drop: (() => Promise<void>) | undefined;
    let stage: TestStage;
    let db: DataSource;

    beforeAll(async () => {
      const target = await backend.create();
      drop = target.drop;
      await seedAcmeCatalog(target.database, {
        ads: [adFactory({ id: 42, campaignId: 10 }), adFactory({ id: 43, campaignId: 10 })],
      });
      stage = await startLoggingStage(prefix, { ...target.env, TRACKING_SECRET: SECRET, ADMIN_TOKEN });
      db = stage.app.get(DataSource);
    });

    afterAll(async () => {
      await stage?.close();
      await deleteRedisKeys(prefix);
      await drop?.();
    });

    it('stores the shadow log once and compares both models on the ads shown, joined by request and ad', async () => {
      const record = shadowRecordFactory();
      const { requestId } = record;
      const shadowQueue = stage.app.get<Queue<ShadowScoreJob>>(getQueueToken(Queues.shadow));
      const servedQueue = stage.app.get<Queue<ServedRecordJob>>(getQueueToken(Queues.served));
      const servedAd = (slot: number, adId: number) => ({
        slot,
        adId,
        campaignId: 10,
        advertiserId: 1,
        bidType: 'CPC' as const,
        bid: 0.8,
        price: 0.5,
        pCtr: 0.5,
        pCvr: 0.1,
        features: null,
      });
      await servedQueue.add(
        JobNames.persistServed,
        {
          records: [
            {
              requestId,
              servedAt: record.scoredAt,
              userId: 'u00001',
              surface: 'home_feed',
              country: 'US',
              device: 'mobile',
              modelVersion: 'live-v1',
              featureDim: null,
              degraded: [],
              ads: [servedAd(0, 43), servedAd(1, 42)],
            },
          ],
        },
        persistJobOptions(`served:${requestId}`),
      );
      for (const id of ['a', 'b']) {
        await shadowQueue.add(
          JobNames.persistShadow,
          { records: [record] },
          persistJobOptions(`shadow:${id}`),
        );
      }
      for (const [slot, adId] of [
        [0, 43],
        [1, 42],
      ] as const) {
        const claims = servedAdClaimsFactory({ r: requestId, a: adId, s: slot });
        const urls = trackingUrls({ baseUrl: stage.url, claims, secret: SECRET });
        expect((await fetch(urls.impressionUrl)).status).toBe(204);
        if (adId === 42) expect((await fetch(urls.clickUrl, { redirect: 'manual' })).status).toBe(302);
      }
      await eventually(
        'the shadow row and the three events',
        async () => [
          await db.getRepository(ShadowScoreEntity).countBy({ requestId }),
          await db.getRepository(TrackingEventEntity).countBy({ requestId }),
        ],
        ([shadow, events]) => shadow === 1 && events === 3,
      );

      const res = await fetch(`${stage.url}/v1/reports/shadow?shadowVersion=shadow-v2`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(200);
      const { comparisons } = (await res.json()) as { comparisons: Record<string, unknown>[] };
      expect(comparisons).toHaveLength(1);
      // Shown: ad 43 (live 0.1, shadow 0.05, not clicked) and ad 42 (live 0.2, shadow 0.6, clicked).
      expect(comparisons[0]).toMatchObject({
        liveVersion: 'live-v1',
        shadowVersion: 'shadow-v2',
        requests: 1,
        impressions: 2,
        clicks: 1,
        live: { auc: 1 },
        shadow: { auc: 1 },
        rankCorrelation: 1,
      });
      const [live, shadow] = [comparisons[0]['live'], comparisons[0]['shadow']] as {
        logloss: number;
        predictedOverObserved: number;
      }[];
      expect(live.predictedOverObserved).toBeCloseTo(0.3, 9);
      expect(shadow.predictedOverObserved).toBeCloseTo(0.65, 9);
      expect(live.logloss).toBeCloseTo(-(Math.log(0.2) + Math.log(0.9)) / 2, 9);
      expect(comparisons[0]['candidateRankCorrelation']).toBeCloseTo(0.5, 9);
    });

    it('refuses the report without the admin token and names a bad query field', async () => {
      expect((await fetch(`${stage.url}/v1/reports/shadow`)).status).toBe(401);
      const bad = await fetch(`${stage.url}/v1/reports/shadow?limit=0&colour=red`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({
        code: 'invalid_request',
        message: expect.stringMatching(/limit.*colour|colour.*limit/),
      });
    });
  },
);
