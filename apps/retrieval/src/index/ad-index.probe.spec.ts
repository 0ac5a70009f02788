import { describe, it, expect, beforeEach } from '@jest/globals';
import { FakeCatalogSnapshots, catalogSnapshot } from '@adfunnel/testing';
import { RetrievalConfigSchema } from '../config.js';
import { AdIndexProbe } from './ad-index.probe.js';
import { IndexLifecycleService } from './index-lifecycle.service.js';

describe(AdIndexProbe.name, () => {
  let lifecycle: IndexLifecycleService;
  let sut: AdIndexProbe;

  beforeEach(() => {
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1'));
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
      size: lifecycle.current().size,
      efSearch: 128,
      exactThreshold: 4000,
      building: false,
    });
    expect(details).not.toHaveProperty('lastFailure');
  });
});
