import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CampaignEntity, CatalogSnapshotService } from '@adfunnel/catalog';
import { CandidatesResponseSchema, QueueGroups, Rpc, type CandidatesRequest } from '@adfunnel/contracts';
import { parseConfig } from '@adfunnel/platform';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import {
  type SeededCatalog,
  type TestStage,
  connectTestBus,
  seededSqliteCatalog,
  startTestStage,
  testRunId,
  knownUserContext,
} from '@adfunnel/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { RetrievalConfigSchema } from './config.js';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';
import { RetrievalModule } from './retrieval.module.js';
import { RetrievalService } from './retrieval.service.js';

const SPEC: MarketplaceSpec = { seed: 9, advertisers: 30, campaignsPerAdvertiser: 3, ads: 2500, users: 50 };

function requestFactory(overrides: Partial<CandidatesRequest> = {}): CandidatesRequest {
  return {
    requestId: `req-${randomUUID()}`,
    deadlineAt: Date.now() + 5_000,
    user: knownUserContext(SPEC, 0),
    surface: 'home_feed',
    limit: 200,
    ...overrides,
  };
}

describe(RetrievalModule.name, () => {
  let catalog: SeededCatalog;
  let stage: TestStage;
  let app: NestFastifyApplication;
  let baseUrl: string;
  const candidates = (request: unknown) =>
    stage.bus.call(Rpc.retrievalCandidates, request as CandidatesRequest);

  beforeAll(async () => {
    catalog = await seededSqliteCatalog(SPEC);
    stage = await startTestStage({
      name: 'retrieval',
      queueGroup: QueueGroups.retrieval,
      module: (env) =>
        RetrievalModule.forRoot(
          parseConfig(RetrievalConfigSchema, { ...env, SQLITE_PATH: catalog.sqlitePath }),
        ),
    });
    ({ app, url: baseUrl } = stage);
  });

  afterAll(async () => {
    await stage?.close();
    await catalog?.remove();
  });

  it('answers only in its own bus namespace, not in the plain one `npm start` uses nor in another', async () => {
    const served = jest.spyOn(app.get(RetrievalService), 'candidates');
    const plain = await connectTestBus('');
    const elsewhere = await connectTestBus(testRunId('retrieval_elsewhere'));
    try {
      // A funnel started with `npm start` may answer the plain call; this stage must not see it.
      await plain.call(Rpc.retrievalCandidates, requestFactory(), { timeoutMs: 500 }).catch(() => undefined);
      await expect(elsewhere.call(Rpc.retrievalCandidates, requestFactory())).rejects.toMatchObject({
        code: 'unavailable',
        message: `no service is listening on ${Rpc.retrievalCandidates.pattern}`,
      });
      expect(served).not.toHaveBeenCalled();

      await candidates(requestFactory());
      expect(served).toHaveBeenCalledTimes(1);
    } finally {
      served.mockRestore();
      await plain.onApplicationShutdown();
      await elsewhere.onApplicationShutdown();
    }
  });

  it('answers candidates over the bus from the index built at startup', async () => {
    const response = await candidates(requestFactory());

    expect(CandidatesResponseSchema.parse(response)).toEqual(response);
    expect(response.adIds).toHaveLength(200);
    // Below RETRIEVAL_EXACT_THRESHOLD (4000 by default) eligible ads, the index scans them exactly.
    const source =
      response.eligible < app.get(IndexLifecycleService).current().exactThreshold ? 'exact' : 'ann';
    // The home feed's quotas: personalized 60% first, then trending, the advertisers the user clicked
    // and popular (15%); the personalized source backfills what trending and retargeting lack.
    expect(response.sources.slice(0, 120)).toEqual(Array(120).fill(source));
    expect(response.sources.filter((s) => s === 'popular')).toHaveLength(30);
    expect(new Set(response.sources)).toEqual(
      new Set([
        source,
        'popular',
        ...response.sources.filter((s) => s === 'trending' || s === 'retargeting'),
      ]),
    );
    expect(response.indexVersion).toBe(app.get(IndexLifecycleService).current().version);
  });

  it("answers a search mostly with the lexical hits for the query's product", async () => {
    const ads = app.get(CatalogSnapshotService).snapshot().ads;
    const byId = new Map(ads.map((ad) => [ad.id, ad]));
    const product = 'wireless earbuds';

    const response = await candidates(requestFactory({ surface: 'search', query: product, limit: 20 }));

    const lexical = response.adIds.filter((_, i) => response.sources[i] === 'lexical');
    expect(response.adIds).toHaveLength(20);
    expect(lexical.length).toBeGreaterThanOrEqual(12);
    expect(lexical.every((id) => byId.get(id)!.title.endsWith(`: ${product}`))).toBe(true);
    const electronics = response.adIds.filter((id) => byId.get(id)!.category === 'electronics');
    expect(electronics.length).toBeGreaterThanOrEqual(16);
  });

  it('answers a related-items request with ads like the context ad, without the ad itself', async () => {
    const ads = app.get(CatalogSnapshotService).snapshot().ads;
    const byId = new Map(ads.map((ad) => [ad.id, ad]));
    const context = ads[100];

    const response = await candidates(
      requestFactory({ surface: 'related_items', contextAdId: context.id, limit: 50 }),
    );

    expect(response.adIds).not.toContain(context.id);
    expect(response.sources.slice(0, 40)).toEqual(Array(40).fill('context'));
    const alike = response.adIds.slice(0, 30).filter((id) => byId.get(id)!.category === context.category);
    expect(alike.length).toBeGreaterThanOrEqual(20);
  });

  it('rejects a malformed request naming the bad field', async () => {
    await expect(candidates({ ...requestFactory(), limit: 0 })).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('limit'),
    });
  });

  it('answers timeout for a request whose deadline has passed', async () => {
    await expect(candidates(requestFactory({ deadlineAt: Date.now() - 1 }))).rejects.toMatchObject({
      code: 'timeout',
    });
  });

  it('reports the index on /health', async () => {
    const res = await fetch(`${baseUrl}/health`);
    const body = (await res.json()) as { status: string; info: Record<string, Record<string, unknown>> };

    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info['index']).toMatchObject({
      status: 'up',
      version: app.get(IndexLifecycleService).current().version,
    });
    expect(body.info['nats']).toMatchObject({ status: 'up' });
    expect(body.info['database']).toMatchObject({ status: 'up' });
  });

  it('rebuilds the index when a campaign is paused, and stops serving its ads', async () => {
    const request = requestFactory({ limit: 2000 });
    const before = await candidates(request);
    const db = app.get(DataSource);
    const [topAd] = await db.query<{ campaign_id: number }[]>('SELECT campaign_id FROM ads WHERE id = ?', [
      before.adIds[0],
    ]);
    const campaignId = topAd.campaign_id;
    await db.getRepository(CampaignEntity).update({ id: campaignId }, { status: 'paused' });

    await app.get(CatalogSnapshotService).refresh();
    const lifecycle = app.get(IndexLifecycleService);
    await lifecycle.rebuild(app.get(CatalogSnapshotService).snapshot());
    const after = await candidates({ ...request, requestId: `req-${randomUUID()}` });

    expect(after.indexVersion).not.toBe(before.indexVersion);
    const campaignAds = new Set(
      (await db.query<{ id: number }[]>('SELECT id FROM ads WHERE campaign_id = ?', [campaignId])).map(
        (r) => r.id,
      ),
    );
    expect(before.adIds.some((id) => campaignAds.has(id))).toBe(true);
    expect(after.adIds.some((id) => campaignAds.has(id))).toBe(false);
  });
});
