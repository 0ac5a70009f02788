import { describe, it, expect, beforeAll, beforeEach } from '@jest/globals';
import { AdfunnelError } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from '@adfunnel/features';
import { FakeCatalogSnapshots, catalogAds, catalogSnapshot } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { RetrievalConfigSchema, type RetrievalConfig } from '../config.js';
import { IndexLifecycleService } from './index-lifecycle.service.js';

const config: RetrievalConfig = RetrievalConfigSchema.parse({
  RETRIEVAL_EF_SEARCH: '64',
  RETRIEVAL_EXACT_THRESHOLD: '500',
});

describe(IndexLifecycleService.name, () => {
  let catalog: FakeCatalogSnapshots;
  let sut: IndexLifecycleService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1'));
    sut = new IndexLifecycleService(catalog.asService(), config);
  });

  it('is not ready before bootstrap', () => {
    expect(() => sut.current()).toThrow(new AdfunnelError('not_ready', 'the ad index is not built yet'));
  });

  it('builds the index from the current snapshot at bootstrap, with the configured search settings', async () => {
    await sut.onApplicationBootstrap();

    const index = sut.current();
    expect(index.catalogVersion).toBe('cat-1');
    expect(index.version).toMatch(/^cat-1@\d{4}-\d\d-\d\dT/);
    expect(index.size).toBe(catalog.snapshot().ads.filter((ad) => ad.campaign.status === 'active').length);
    expect(index.efSearch).toBe(64);
    expect(index.exactThreshold).toBe(500);
  });

  it('builds a new index when the catalog version changes and swaps it in whole', async () => {
    await sut.onApplicationBootstrap();
    const before = sut.current();
    const ads = catalogAds().slice(0, 600);

    catalog.publish(catalogSnapshot('cat-2', ads));
    expect(sut.current()).toBe(before);
    await sut.rebuild(catalog.snapshot());

    const after = sut.current();
    expect(after).not.toBe(before);
    expect(after.catalogVersion).toBe('cat-2');
    expect(after.size).toBe(ads.filter((ad) => ad.campaign.status === 'active').length);
    expect(before.catalogVersion).toBe('cat-1');
  });

  it('builds only the newest of several versions that arrive during a build', async () => {
    await sut.onApplicationBootstrap();

    catalog.publish(catalogSnapshot('cat-2'));
    catalog.publish(catalogSnapshot('cat-3'));
    catalog.publish(catalogSnapshot('cat-4'));
    await sut.rebuild(catalog.snapshot());

    expect(sut.current().catalogVersion).toBe('cat-4');
  });

  it('keeps serving the old index when a rebuild fails, and reports the failure', async () => {
    await sut.onApplicationBootstrap();
    const before = sut.current();
    const broken = catalogAds();
    broken[7] = {
      ...broken[7],
      campaign: { ...broken[7].campaign, status: 'active' },
      embedding: new Float32Array(EMBEDDING_DIM),
    };

    catalog.publish(catalogSnapshot('cat-bad', broken));
    await sut.rebuild(catalog.snapshot());

    expect(sut.current()).toBe(before);
    expect(sut.status().lastFailure).toMatchObject({
      catalogVersion: 'cat-bad',
      message: 'ad 8 has an all-zero embedding',
    });
  });

  it('refuses to start when the first build fails', async () => {
    const ads = catalogAds().map((ad) => ({ ...ad, embedding: new Float32Array(EMBEDDING_DIM) }));
    catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-bad', ads));
    sut = new IndexLifecycleService(catalog.asService(), config);

    await expect(sut.onApplicationBootstrap()).rejects.toThrow(
      /^cannot build the ad index: ad \d+ has an all-zero embedding$/,
    );
  });

  it('stops following the catalog on shutdown', async () => {
    await sut.onApplicationBootstrap();
    expect(catalog.listenerCount).toBe(1);

    sut.onModuleDestroy();

    expect(catalog.listenerCount).toBe(0);
  });
});
