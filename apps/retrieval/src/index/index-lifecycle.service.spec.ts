import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { AdIndex } from '@adfunnel/ad-index';
import type { CatalogAd } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';
import { EMBEDDING_DIM, TOPIC_COUNT } from '@adfunnel/features';
import { FakeCatalogSnapshots, catalogAds, catalogSnapshot } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { RetrievalConfigSchema, type RetrievalConfig } from '../config.js';
import { CandidateCatalog } from '../sources/candidate-catalog.js';
import { IndexLifecycleService } from './index-lifecycle.service.js';
import { IndexStore } from './index-store.js';

const baseEnv = { RETRIEVAL_EF_SEARCH: '64', RETRIEVAL_EXACT_THRESHOLD: '500' };
const config: RetrievalConfig = RetrievalConfigSchema.parse(baseEnv);

const servable = (ads: readonly CatalogAd[]) =>
  ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active').length;

/** A few edits: three servable ads gone, one with a new embedding, one campaign's ads moved to Japanese tablets. */
function edited(ads: readonly CatalogAd[]): CatalogAd[] {
  const live = ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
  const gone = new Set(live.slice(0, 3).map((ad) => ad.id));
  const changed = live[3].id;
  const campaign = live[40].campaign;
  const moved = { ...campaign, targetCountries: ['JP'], targetDevices: ['tablet'] };
  return ads
    .filter((ad) => !gone.has(ad.id))
    .map((ad) => {
      if (ad.id === changed) return { ...ad, embedding: live[4].embedding.slice() };
      return ad.campaign.id === campaign.id ? { ...ad, campaign: moved } : ad;
    });
}

/** What a request sees of the index, on a few (country, device) pairs and queries. */
function answers(index: AdIndex, ads: readonly CatalogAd[]) {
  return ['US', 'JP', 'ZZ'].flatMap((country) =>
    ['mobile', 'tablet'].flatMap((device) => [
      index.popular({ country, device, k: 30 }).adIds,
      ...[0, 50, 100].map((i) => index.search({ embedding: ads[i].embedding, country, device, k: 30 }).adIds),
    ]),
  );
}

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
    expect(sut.status().lifecycle.startup).toMatchObject({ how: 'built' });
  });

  it('applies a small catalog change to the index in place, with a new candidate catalog', async () => {
    await sut.onApplicationBootstrap();
    const before = sut.current();
    const candidatesBefore = sut.candidates();
    const ads = edited(catalog.snapshot().ads);

    catalog.publish(catalogSnapshot('cat-2', ads));
    await sut.follow(catalog.snapshot());

    expect(sut.current()).toBe(before);
    expect(sut.candidates()).not.toBe(candidatesBefore);
    expect(sut.candidates().index).toBe(before);
    expect(before.catalogVersion).toBe('cat-2');
    expect(before.version).toMatch(/^cat-2@/);
    expect(before.size).toBe(servable(ads));
    expect(sut.status().lifecycle.lastChange).toMatchObject({
      how: 'applied',
      catalogVersion: 'cat-2',
      removed: 3,
    });
    // Popular lists follow targeting and prior exactly: as a fresh build of the new catalog has them.
    const fresh = AdIndex.build(ads, { catalogVersion: 'cat-2', efSearch: 64, exactThreshold: 500 });
    for (const country of ['US', 'JP', 'ZZ']) {
      for (const device of ['mobile', 'tablet']) {
        expect(before.popular({ country, device, k: 5000 })).toEqual(
          fresh.popular({ country, device, k: 5000 }),
        );
      }
    }
  });

  it('builds a large catalog change aside and swaps it in whole', async () => {
    sut = new IndexLifecycleService(
      catalog.asService(),
      RetrievalConfigSchema.parse({ ...baseEnv, RETRIEVAL_INDEX_INCREMENTAL_MAX: '100' }),
    );
    await sut.onApplicationBootstrap();
    const before = sut.current();
    // About 200 new embeddings: more new vectors than RETRIEVAL_INDEX_INCREMENTAL_MAX.
    const base = catalogAds();
    const ads = base.map((ad, i) =>
      i % 7 === 0 ? { ...ad, embedding: base[(i + 1) % base.length].embedding } : ad,
    );

    catalog.publish(catalogSnapshot('cat-2', ads));
    expect(sut.current()).toBe(before);
    await sut.follow(catalog.snapshot());

    const after = sut.current();
    expect(after).not.toBe(before);
    expect(after.catalogVersion).toBe('cat-2');
    expect(after.size).toBe(servable(ads));
    expect(before.catalogVersion).toBe('cat-1');
    expect(sut.status().lifecycle.lastChange).toMatchObject({ how: 'rebuilt', catalogVersion: 'cat-2' });
  });

  it('follows only the newest of several versions that arrive during a change', async () => {
    await sut.onApplicationBootstrap();

    catalog.publish(catalogSnapshot('cat-2'));
    catalog.publish(catalogSnapshot('cat-3'));
    catalog.publish(catalogSnapshot('cat-4'));
    await sut.follow(catalog.snapshot());

    expect(sut.current().catalogVersion).toBe('cat-4');
  });

  it('keeps serving the old index when a change fails, and reports the failure', async () => {
    await sut.onApplicationBootstrap();
    const before = sut.current();
    const answered = answers(before, catalog.snapshot().ads);
    const broken = catalogAds();
    broken[7] = {
      ...broken[7],
      campaign: { ...broken[7].campaign, status: 'active' },
      embedding: new Float32Array(EMBEDDING_DIM),
    };

    catalog.publish(catalogSnapshot('cat-bad', broken));
    await sut.follow(catalog.snapshot());

    expect(sut.current()).toBe(before);
    expect(before.catalogVersion).toBe('cat-1');
    expect(answers(before, catalogAds())).toEqual(answered);
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

    await sut.onModuleDestroy();

    expect(catalog.listenerCount).toBe(0);
  });

  it('compacts the index once removed ads pass the deleted share', async () => {
    sut = new IndexLifecycleService(
      catalog.asService(),
      RetrievalConfigSchema.parse({ ...baseEnv, RETRIEVAL_INDEX_MAX_DELETED_SHARE: '0.1' }),
    );
    await sut.onApplicationBootstrap();
    const before = sut.current();
    const ads = catalog.snapshot().ads.filter((ad) => ad.id % 5 !== 0);

    catalog.publish(catalogSnapshot('cat-2', ads));
    await sut.follow(catalog.snapshot());
    await sut.idle();

    const after = sut.current();
    expect(after).not.toBe(before);
    expect(after.deleted).toBe(0);
    expect(after.size).toBe(servable(ads));
    expect(after.catalogVersion).toBe('cat-2');
    expect(sut.candidates().index).toBe(after);
    expect(sut.status().lifecycle.lastChange).toMatchObject({ how: 'compacted', catalogVersion: 'cat-2' });
    expect(sut.status().lifecycle.lastChange?.purged).toBeGreaterThan(0);
  });

  describe('with an index store', () => {
    let dir: string;
    const started: IndexLifecycleService[] = [];
    const start = async (env: Record<string, string> = {}) => {
      const cfg = RetrievalConfigSchema.parse({ ...baseEnv, RETRIEVAL_INDEX_DIR: dir, ...env });
      const service = new IndexLifecycleService(catalog.asService(), cfg, new IndexStore(cfg));
      started.push(service);
      await service.onApplicationBootstrap();
      await service.idle();
      return service;
    };

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'index-lifecycle-'));
    });

    afterEach(async () => {
      for (const service of started.splice(0)) await service.onModuleDestroy();
      await rm(dir, { recursive: true, force: true });
    });

    it('saves the index it built and loads it at the next start instead of building', async () => {
      const first = await start();
      expect(first.status().lifecycle.startup).toMatchObject({ how: 'built' });
      expect(first.status().lifecycle.lastSave?.dir).toMatch(new RegExp(`^${join(dir, 'content')}/index-`));
      await first.onModuleDestroy();

      const second = await start();

      expect(second.status().lifecycle.startup).toMatchObject({
        how: 'loaded',
        applied: { added: 0, updated: 0, removed: 0 },
      });
      expect(second.current().origin.kind).toBe('loaded');
      expect(second.current().version).toBe(first.current().version);
      const ads = catalog.snapshot().ads;
      expect(answers(second.current(), ads)).toEqual(answers(first.current(), ads));
    });

    it('applies what the catalog changed while it was down', async () => {
      await (await start()).onModuleDestroy();
      const ads = edited(catalog.snapshot().ads);
      catalog.publish(catalogSnapshot('cat-2', ads));

      const restarted = await start();

      expect(restarted.status().lifecycle.startup).toMatchObject({ how: 'loaded', applied: { removed: 3 } });
      expect(restarted.current().catalogVersion).toBe('cat-2');
      expect(restarted.current().size).toBe(servable(ads));
      // The change is saved in turn: the next start has nothing to apply.
      await restarted.onModuleDestroy();
      expect((await start()).status().lifecycle.startup).toMatchObject({
        how: 'loaded',
        applied: { added: 0, updated: 0, removed: 0 },
      });
    });

    it('rebuilds when the saved index was built with another layout, and says why', async () => {
      await (await start()).onModuleDestroy();

      const other = await start({ RETRIEVAL_EXACT_THRESHOLD: '400' });

      expect(other.status().lifecycle.startup?.how).toBe('built');
      expect(other.status().lifecycle.startup?.why).toMatch(/exactThreshold saved 500, expected 400/);
      expect(other.current().exactThreshold).toBe(400);
    });

    it('saves changes once they pause, and an orderly shutdown saves what is still unsaved', async () => {
      const service = await start({ RETRIEVAL_INDEX_SAVE_DELAY_MS: '3600000' });
      const firstSave = service.status().lifecycle.lastSave;
      catalog.publish(catalogSnapshot('cat-2', edited(catalog.snapshot().ads)));
      await service.follow(catalog.snapshot());
      await service.idle();
      expect(service.status().lifecycle.lastSave).toBe(firstSave);

      await service.onModuleDestroy();

      expect(service.status().lifecycle.lastSave).not.toBe(firstSave);
      const restarted = await start();
      expect(restarted.current().catalogVersion).toBe('cat-2');
      expect(restarted.status().lifecycle.startup?.applied).toEqual({ added: 0, updated: 0, removed: 0 });
    });
  });
});

describe(`${IndexLifecycleService.name} candidate catalog`, () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  /** Everything the candidate sources read of a candidate catalog, for these ads and queries. */
  function contents(sut: CandidateCatalog, ads: readonly CatalogAd[], queries: readonly string[]) {
    const ids = [...new Set(ads.map((ad) => ad.id))];
    const advertisers = [...new Set(ads.map((ad) => ad.advertiserId))];
    return {
      ads: ids.map((id) => sut.ad(id)),
      byAdvertiser: advertisers.map((id) => sut.adsOfAdvertiser(id)),
      centroids: Array.from({ length: TOPIC_COUNT }, (_, c) => sut.categoryCentroid(c)),
      lexical: { size: sut.lexical.size, terms: sut.lexical.terms },
      searches: queries.map((q) => sut.lexical.search(q, 50)),
      eligible: ['US', 'JP', 'ZZ'].map((country) => sut.eligible(country, 'mobile').count),
      campaigns: ['US', 'JP'].map((country) => sut.campaignsFor(country, 'tablet')),
    };
  }

  it('after adds, changes and removals equals a candidate catalog built from scratch, and never pairs an index with another catalog', async () => {
    const base = catalogAds();
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', base));
    const sut = new IndexLifecycleService(catalog.asService(), config);
    await sut.onApplicationBootstrap();
    const live = base.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
    const removed = live[5];
    const nextId = Math.max(...base.map((ad) => ad.id)) + 1;
    const added: CatalogAd = { ...live[0], id: nextId, title: 'Zorblax trail boots', text: 'Grippy soles.' };
    const steps: CatalogAd[][] = [
      [...base, added],
      [...base, added].map((ad) => (ad.id === live[1].id ? { ...ad, title: 'Quuxify desk lamp' } : ad)),
      [...base, added]
        .filter((ad) => ad.id !== removed.id)
        .map((ad) => (ad.id === live[1].id ? { ...ad, title: 'Quuxify desk lamp' } : ad))
        .map((ad) => (ad.id === live[2].id ? { ...ad, status: 'paused' as const } : ad)),
    ];
    const queries = ['zorblax boots', 'quuxify lamp', removed.title, live[1].title, 'trail'];

    // What tells the catalogs apart: the new ad, the changed title, the removed ad.
    const fingerprint = (candidates: CandidateCatalog) =>
      `${candidates.lexical.size}|${candidates.lexical.search('zorblax quuxify', 10).adIds.join(',')}|` +
      `${candidates.ad(removed.id) === undefined ? 'gone' : 'there'}`;
    const expected = new Map<string, string>([['cat-1', fingerprint(sut.candidates())]]);
    steps.forEach((ads, i) =>
      expected.set(`cat-${i + 2}`, fingerprint(CandidateCatalog.build(sut.current(), ads))),
    );
    expect(new Set(expected.values()).size).toBe(expected.size);

    for (const [i, ads] of steps.entries()) {
      const version = `cat-${i + 2}`;
      catalog.publish(catalogSnapshot(version, ads));
      // Every turn of the event loop while the change is worked on: the index in service and the
      // candidate catalog are of one catalog.
      const mismatches: string[] = [];
      let turns = 0;
      let following = true;
      const watch = () => {
        const index = sut.current();
        const candidates = sut.candidates();
        if (candidates.index !== index) mismatches.push(`${version}: another index`);
        if (fingerprint(candidates) !== expected.get(index.catalogVersion)) {
          mismatches.push(`index of ${index.catalogVersion} beside another candidate catalog`);
        }
        turns++;
        if (following) setImmediate(watch);
      };
      setImmediate(watch);
      await sut.follow(catalog.snapshot());
      following = false;

      expect(mismatches).toEqual([]);
      expect(turns).toBeGreaterThan(0);
      expect(sut.current().catalogVersion).toBe(version);
      expect(sut.status().lifecycle.lastChange).toMatchObject({ how: 'applied', catalogVersion: version });
      const scratch = CandidateCatalog.build(sut.current(), ads);
      expect(contents(sut.candidates(), [...base, added], queries)).toEqual(
        contents(scratch, [...base, added], queries),
      );
    }

    const lexical = sut.candidates().lexical;
    expect(lexical.search('zorblax', 10).adIds).toEqual([added.id]);
    expect(lexical.search('quuxify', 10).adIds).toEqual([live[1].id]);
    expect(lexical.search(removed.title, 1000).adIds).not.toContain(removed.id);
    expect(sut.candidates().ad(removed.id)).toBeUndefined();
    expect(sut.candidates().ad(added.id)?.campaignId).toBe(added.campaign.id);
    await sut.onModuleDestroy();
  });
});
