import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CampaignEntity,
  CatalogSnapshotService,
  createDataSource,
  runCatalogMigrations,
  seedCatalog,
} from '@adfunnel/catalog';
import {
  CandidatesResponseSchema,
  Rpc,
  type CandidatesRequest,
  type CandidatesResponse,
} from '@adfunnel/contracts';
import { parseConfig, startService } from '@adfunnel/platform';
import { type MarketplaceSpec, userAt } from '@adfunnel/simulator';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { RetrievalConfigSchema } from './config.js';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';
import { RetrievalModule } from './retrieval.module.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const SPEC: MarketplaceSpec = { seed: 9, advertisers: 30, campaignsPerAdvertiser: 3, ads: 2500, users: 50 };

function requestFactory(overrides: Partial<CandidatesRequest> = {}): CandidatesRequest {
  const user = userAt(SPEC, 0);
  return {
    requestId: `req-${randomUUID()}`,
    deadlineAt: Date.now() + 5_000,
    user: {
      userId: user.id,
      country: user.country,
      device: user.device,
      interests: Array.from(user.interests),
      known: true,
    },
    surface: 'home_feed',
    limit: 200,
    ...overrides,
  };
}

describe(RetrievalModule.name, () => {
  let dir: string;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let bus: ClientProxy;
  const candidates = (request: unknown) =>
    firstValueFrom(bus.send<CandidatesResponse>(Rpc.retrievalCandidates.pattern, request));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'adfunnel-retrieval-'));
    const sqlitePath = path.join(dir, 'catalog.sqlite');
    const setup = await createDataSource({ sqlitePath });
    try {
      await runCatalogMigrations(setup);
      await seedCatalog(setup, SPEC);
    } finally {
      await setup.destroy();
    }
    const config = parseConfig(RetrievalConfigSchema, {
      SQLITE_PATH: sqlitePath,
      NATS_URL,
      CATALOG_REFRESH_MS: '0',
      LOG_LEVEL: 'warn',
    });
    app = await startService({
      name: 'retrieval-test',
      module: RetrievalModule.forRoot(config),
      port: 0,
      host: '127.0.0.1',
      natsUrl: NATS_URL,
      // Its own queue group, so a retrieval service running on this machine does not take the test's requests.
      queueGroup: `adfunnel-retrieval-test-${randomUUID()}`,
      logLevel: 'warn',
    });
    baseUrl = await app.getUrl();
    bus = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: NATS_URL } });
    await bus.connect();
  });

  afterAll(async () => {
    await bus?.close();
    await app?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('answers candidates over the bus from the index built at startup', async () => {
    const response = await candidates(requestFactory());

    expect(CandidatesResponseSchema.parse(response)).toEqual(response);
    expect(response.adIds).toHaveLength(200);
    // Below RETRIEVAL_EXACT_THRESHOLD (4000 by default) eligible ads, the index scans them exactly.
    const source = response.eligible < 2000 ? 'exact' : 'ann';
    expect(response.sources).toEqual(Array(200).fill(source));
    expect(response.indexVersion).toBe(app.get(IndexLifecycleService).current().version);
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
