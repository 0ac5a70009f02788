import { describe, it, expect, beforeEach } from '@jest/globals';
import { FakeCatalogSnapshots, catalogAds, catalogSnapshot } from '@adfunnel/testing';
import { RetrievalConfigSchema } from '../config.js';
import { AdIndexProbe } from './ad-index.probe.js';
import { CONTENT_EMBEDDING_VERSION, IndexLifecycleService } from './index-lifecycle.service.js';

describe(AdIndexProbe.name, () => {
  let catalog: FakeCatalogSnapshots;
  let lifecycle: IndexLifecycleService;
  let sut: AdIndexProbe;

  beforeEach(() => {
    catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1'));
    lifecycle = new IndexLifecycleService(catalog.asService(), RetrievalConfigSchema.parse({}));
    sut = new AdIndexProbe(lifecycle);
  });

  it('is down until an index is built', async () => {
    await expect(sut.check()).rejects.toThrow('ad index not built yet');
  });

  it('reports size and version once the index serves', async () => {
    await lifecycle.onApplicationBootstrap();

    const details = await sut.check();

    expect(details).toMatchObject({
      version: lifecycle.current().version,
      catalogVersion: 'cat-1',
      embeddingVersion: CONTENT_EMBEDDING_VERSION,
      size: lifecycle.current().size,
      deleted: 0,
      efSearch: 128,
      exactThreshold: 4000,
      building: false,
      origin: 'built',
      dir: null,
    });
    expect(details['startMs']).toEqual(expect.any(Number));
    expect(details).not.toHaveProperty('lastFailure');
  });

  it('reports what the last catalog change did to the index', async () => {
    await lifecycle.onApplicationBootstrap();
    const ads = catalogAds().filter((ad) => ad.id % 10 !== 0);

    catalog.publish(catalogSnapshot('cat-2', ads));
    await lifecycle.follow(catalog.snapshot());
    const details = await sut.check();

    expect(details).toMatchObject({
      catalogVersion: 'cat-2',
      lastChange: { how: 'applied', catalogVersion: 'cat-2', added: 0, updated: 0 },
      changedSinceBuild: { added: 0, updated: 0 },
    });
    expect(details['deleted']).toBeGreaterThan(0);
  });
});
