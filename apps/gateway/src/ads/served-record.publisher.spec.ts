import { describe, expect, it } from '@jest/globals';
import type { CatalogAd } from '@adfunnel/catalog';
import type { AdRequest, ServedAd, ServedRecord } from '@adfunnel/contracts';
import {
  FEATURE_SPEC,
  TOPIC_COUNT,
  buildFeatureMatrix,
  embedTopicMixture,
  featureSpecFingerprint,
} from '@adfunnel/features';
import type { BusClient } from '@adfunnel/platform';
import { FakeCatalogSnapshots, catalogSnapshot } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { GatewayConfigSchema } from '../config.js';
import type { FunnelTrace } from './funnel-trace.js';
import { ServedRecordPublisher } from './served-record.publisher.js';

const oneHot = (k: number) => Array.from({ length: TOPIC_COUNT }, (_, i) => (i === k ? 1 : 0));

const catalogAd = (id: number, topic: number): CatalogAd =>
  ({ id, categoryIndex: topic, embedding: embedTopicMixture(oneHot(topic)) }) as unknown as CatalogAd;

describe(ServedRecordPublisher.name, () => {
  Logger.overrideLogger(false);
  const request: AdRequest = { userId: 'u1', surface: 'search', country: 'US', device: 'desktop', slots: 2 };
  const user = { userId: 'u1', country: 'US', device: 'desktop' as const, interests: oneHot(3), known: true };
  const ads = [catalogAd(7, 3), catalogAd(9, 5)];
  const served = ads.map(
    (ad, slot) => ({ slot, adId: ad.id, campaignId: 1, advertiserId: ad.id }) as ServedAd,
  );
  const trace = (catalogVersion: string): FunnelTrace => ({
    requestId: 'r1',
    servedAt: 1,
    user,
    scores: {
      modelVersion: 'm',
      pCtr: [0.1, 0.2],
      pCvr: [0.3, 0.4],
      featureSpec: featureSpecFingerprint(),
      catalogVersion,
    },
    auction: {
      mechanism: 'gsp',
      reservePerImpression: 0,
      considered: 2,
      eligible: 2,
      winners: ads.map((ad, slot) => ({
        slot,
        adId: ad.id,
        campaignId: 1,
        advertiserId: ad.id,
        bidType: 'CPC' as const,
        bid: 1,
        price: 0.5,
        valuePerImpression: 0.1,
        pCtr: 0.1,
        pCvr: 0.3,
      })),
    },
  });

  function publisherWith(sent: ServedRecord[]): ServedRecordPublisher {
    const bus = {
      call: (_c: unknown, batch: { records: ServedRecord[] }) => {
        sent.push(...batch.records);
        return Promise.resolve({ accepted: batch.records.length });
      },
    };
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService();
    const config = GatewayConfigSchema.parse({});
    return new ServedRecordPublisher(bus as unknown as BusClient, catalog, config);
  }

  it('logs the rows ranking scored: same libs/features code, same user context, same catalog version', async () => {
    const sent: ServedRecord[] = [];
    const sut = publisherWith(sent);

    sut.publish(request, trace('cat-1'), served, []);
    await sut.drain();

    const expected = buildFeatureMatrix(
      { interests: user.interests, device: 'desktop', known: true },
      'search',
      ads,
    );
    expect(sent).toHaveLength(1);
    expect(sent[0].featureDim).toBe(FEATURE_SPEC.dim);
    expect(sent[0].ads[1].features).toEqual(Array.from(expected.subarray(FEATURE_SPEC.dim)));
  });

  it('logs no rows when ranking scored against another catalog version', async () => {
    const sent: ServedRecord[] = [];
    const sut = publisherWith(sent);

    sut.publish(request, trace('cat-0'), served, []);
    await sut.drain();

    expect(sent[0].featureDim).toBeNull();
    expect(sent[0].ads.every((ad) => ad.features === null)).toBe(true);
  });

  it('sends the records of many requests as one batch', async () => {
    const batches: number[] = [];
    const bus = {
      call: (_c: unknown, batch: { records: ServedRecord[] }) => {
        batches.push(batch.records.length);
        return Promise.resolve({ accepted: batch.records.length });
      },
    };
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService();
    const sut = new ServedRecordPublisher(
      bus as unknown as BusClient,
      catalog,
      GatewayConfigSchema.parse({ SERVED_BATCH_MS: '10000', SERVED_BATCH_MAX: '3' }),
    );

    for (let i = 0; i < 7; i++) sut.publish(request, trace('cat-1'), served, []);
    await sut.drain();

    expect(batches).toEqual([3, 3, 1]);
  });
});
