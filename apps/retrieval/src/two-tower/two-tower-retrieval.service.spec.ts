import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { CandidatesRequest } from '@adfunnel/contracts';
import { TWO_TOWER_SPEC } from '@adfunnel/features';
import { TwoTowerModel, resolveCurrentTwoTowerModel } from '@adfunnel/models';
import { FakeCatalogSnapshots, catalogAds, catalogSnapshot } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { IndexStore } from '../index/index-store.js';
import { TowerEmbeddings } from './tower-index.js';
import type { TwoTowerConfig } from './two-tower.config.js';
import { TwoTowerRetrievalService } from './two-tower-retrieval.service.js';

/** The tiny model libs/models' tests load (tools/training/make_two_tower_test_model.py). */
const TEST_MODELS = fileURLToPath(new URL('../../../../libs/models/src/testing/models', import.meta.url));

const config = (modelsDir: string, over: Partial<TwoTowerConfig> = {}): TwoTowerConfig => ({
  MODELS_DIR: modelsDir,
  RETRIEVAL_MODEL: 'retrieval',
  RETRIEVAL_TWO_TOWER: 'auto',
  RETRIEVAL_MODEL_WATCH_MS: 0,
  RETRIEVAL_EF_SEARCH: 64,
  RETRIEVAL_EXACT_THRESHOLD: 500,
  ...over,
});

const request = (over: Partial<CandidatesRequest> = {}): CandidatesRequest => ({
  requestId: 'r1',
  deadlineAt: Date.now() + 10_000,
  user: {
    userId: 'u1',
    country: 'US',
    device: 'mobile',
    interests: new Array<number>(16).fill(0),
    known: true,
    activity: {
      impressionsByCategory: new Array<number>(16).fill(1),
      clicksByCategory: [2, ...new Array<number>(15).fill(0)],
      hidesByCategory: new Array<number>(16).fill(0),
      conversionsByCategory: new Array<number>(16).fill(0),
      recentAdIds: [1, 2, 3],
      recentAdvertiserIds: [1],
      recentQueries: ['running shoes'],
      updatedAt: 1,
    },
  },
  surface: 'search',
  limit: 20,
  query: 'trail running shoes',
  ...over,
});

/** A second version of the test model: the same towers under another version name. */
async function copyVersion(modelsDir: string, from: string, to: string): Promise<void> {
  const root = join(modelsDir, 'retrieval');
  await cp(join(root, from), join(root, to), { recursive: true });
  const path = join(root, to, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  await writeFile(path, JSON.stringify({ ...manifest, version: to }));
}

async function point(modelsDir: string, version: string): Promise<void> {
  const path = join(modelsDir, 'retrieval', 'current');
  await writeFile(`${path}.tmp`, `${version}\n`);
  await rename(`${path}.tmp`, path);
}

describe(TwoTowerRetrievalService.name, () => {
  let modelsDir: string;
  let version: string;
  let catalog: FakeCatalogSnapshots;
  let sut: TwoTowerRetrievalService | undefined;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'two-tower-retrieval-'));
    await cp(join(TEST_MODELS, 'retrieval'), join(modelsDir, 'retrieval'), { recursive: true });
    version = (await readFile(join(modelsDir, 'retrieval', 'current'), 'utf8')).trim();
    catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', catalogAds().slice(0, 400)));
  });
  afterEach(async () => {
    await sut?.onModuleDestroy();
    sut = undefined;
    await rm(modelsDir, { recursive: true, force: true });
  });

  const start = async (over: Partial<TwoTowerConfig> = {}) => {
    sut = new TwoTowerRetrievalService(catalog.asService(), config(modelsDir, over));
    await sut.onApplicationBootstrap();
    return sut;
  };

  it('serves the heuristic when there is no model, or when turned off', async () => {
    await rm(join(modelsDir, 'retrieval'), { recursive: true });
    const none = await start();
    expect(none.status()).toMatchObject({ mode: 'heuristic', model: null });
    expect(none.status().problem).toMatch(/no current version for model "retrieval"/);
    expect(await none.personalized(request(), 'cat-1', new Set(), 20)).toBeUndefined();
    await none.onModuleDestroy();

    const off = await start({ RETRIEVAL_TWO_TOWER: 'off' });
    expect(off.status()).toMatchObject({ mode: 'heuristic', problem: 'RETRIEVAL_TWO_TOWER=off' });
  });

  it('answers eligible ads from an index whose version names the model version', async () => {
    const s = await start();
    expect(s.status()).toMatchObject({
      mode: 'two-tower',
      model: `retrieval@${version}`,
      catalogVersion: 'cat-1',
    });

    const answer = await s.personalized(request(), 'cat-1', new Set(), 20);

    expect(answer).toBeDefined();
    expect(answer!.modelVersion).toBe(version);
    expect(answer!.indexVersion).toContain(`cat-1+retrieval@${version}@`);
    expect(answer!.adIds.length).toBeGreaterThan(0);
    expect(answer!.adIds.length).toBeLessThanOrEqual(20);
    const byId = catalog.snapshot().byId;
    for (const adId of answer!.adIds) {
      const ad = byId.get(adId)!;
      expect(ad.status).toBe('active');
      expect(ad.campaign.status).toBe('active');
    }
  });

  it('answers nothing for a catalog version its index was not built from', async () => {
    const s = await start();
    expect(await s.personalized(request(), 'cat-0', new Set(), 20)).toBeUndefined();
  });

  it('leaves out excluded campaigns', async () => {
    const s = await start();
    const first = await s.personalized(request(), 'cat-1', new Set(), 50);
    const byId = catalog.snapshot().byId;
    const excluded = new Set(first!.adIds.slice(0, 5).map((id) => byId.get(id)!.campaign.id));
    const second = await s.personalized(request(), 'cat-1', excluded, 50);
    for (const adId of second!.adIds) expect(excluded.has(byId.get(adId)!.campaign.id)).toBe(false);
  });

  it('reindexes a new catalog version with the same model', async () => {
    const s = await start();
    catalog.publish(catalogSnapshot('cat-2', catalogAds().slice(0, 500)));
    await s.reload(); // queued behind the reindex: resolves once it is done

    expect(s.status()).toMatchObject({ model: `retrieval@${version}`, catalogVersion: 'cat-2' });
    expect(await s.personalized(request(), 'cat-2', new Set(), 20)).toBeDefined();
  });

  it('swaps model and index together on reload and closes the old model', async () => {
    const s = await start();
    const before = await s.personalized(request(), 'cat-1', new Set(), 20);
    await copyVersion(modelsDir, version, 'v2-test');
    await point(modelsDir, 'v2-test');

    const status = await s.reload();

    expect(status).toMatchObject({ mode: 'two-tower', model: 'retrieval@v2-test', problem: null });
    const after = await s.personalized(request(), 'cat-1', new Set(), 20);
    expect(after!.modelVersion).toBe('v2-test');
    expect(after!.indexVersion).toContain('+retrieval@v2-test@');
    // The same weights under another name: the same candidates.
    expect(after!.adIds).toEqual(before!.adIds);
  });

  it('keeps serving when current names a version trained on other inputs', async () => {
    const s = await start();
    await copyVersion(modelsDir, version, 'v-stale');
    const path = join(modelsDir, 'retrieval', 'v-stale', 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { inputSpec: { fingerprint: string } };
    manifest.inputSpec.fingerprint = '0000000000000000';
    await writeFile(path, JSON.stringify(manifest));
    await point(modelsDir, 'v-stale');

    const status = await s.reload();

    expect(status.model).toBe(`retrieval@${version}`);
    expect(status.problem).toMatch(
      /cannot serve retrieval@v-stale: .*fp=0000000000000000 but this build encodes/,
    );
    expect(await s.personalized(request(), 'cat-1', new Set(), 20)).toBeDefined();
  });
});

describe(`${TwoTowerRetrievalService.name} with an index store`, () => {
  let modelsDir: string;
  let indexDir: string;
  let version: string;
  let catalog: FakeCatalogSnapshots;
  const started: TwoTowerRetrievalService[] = [];

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'two-tower-store-'));
    indexDir = join(modelsDir, 'index');
    await cp(join(TEST_MODELS, 'retrieval'), join(modelsDir, 'retrieval'), { recursive: true });
    version = (await readFile(join(modelsDir, 'retrieval', 'current'), 'utf8')).trim();
    catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', catalogAds().slice(0, 400)));
  });
  afterEach(async () => {
    for (const service of started.splice(0)) await service.onModuleDestroy();
    await rm(modelsDir, { recursive: true, force: true });
  });

  /** A service that saves under `indexDir`; stopping it saves what it has not saved yet. */
  const start = async () => {
    const cfg = config(modelsDir);
    const store = new IndexStore({
      RETRIEVAL_INDEX_DIR: indexDir,
      SQLITE_PATH: 'unused.sqlite',
      BUS_NAMESPACE: '',
    });
    const service = new TwoTowerRetrievalService(catalog.asService(), cfg, store);
    started.push(service);
    await service.onApplicationBootstrap();
    return service;
  };

  it('loads the tower index saved for the same model version instead of embedding the catalog again', async () => {
    const first = await start();
    expect(first.status().index).toMatchObject({
      origin: { how: 'built' },
      embedded: first.status().index?.size,
    });
    const before = await first.personalized(request(), 'cat-1', new Set(), 20);
    await first.onModuleDestroy();

    const second = await start();

    expect(second.status().index).toMatchObject({
      origin: { how: 'loaded', applied: { added: 0, updated: 0, removed: 0 } },
      dir: join(indexDir, 'two-tower-retrieval'),
      embedded: 0,
    });
    const after = await second.personalized(request(), 'cat-1', new Set(), 20);
    expect(after!.adIds).toEqual(before!.adIds);
    expect(after!.indexVersion).toBe(before!.indexVersion);
  });

  it('applies what the catalog changed while it was down, embedding only the changed ads', async () => {
    await (await start()).onModuleDestroy();
    const ads = catalogAds().slice(0, 400);
    const live = ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
    const retitled = new Set(live.slice(0, 2).map((ad) => ad.id));
    const gone = live[2].id;
    catalog.publish(
      catalogSnapshot(
        'cat-2',
        ads
          .filter((ad) => ad.id !== gone)
          .map((ad) => (retitled.has(ad.id) ? { ...ad, title: `${ad.title} new` } : ad)),
      ),
    );

    const restarted = await start();

    expect(restarted.status()).toMatchObject({
      catalogVersion: 'cat-2',
      index: { origin: { how: 'loaded', applied: { added: 0, updated: 2, removed: 1 } }, embedded: 2 },
    });
    const answer = await restarted.personalized(request(), 'cat-2', new Set(), 400);
    expect(answer!.adIds).not.toContain(gone);
  });

  it('never loads a tower index saved for another model version', async () => {
    await (await start()).onModuleDestroy();
    await copyVersion(modelsDir, version, 'v2-test');
    await point(modelsDir, 'v2-test');

    const other = await start();

    expect(other.status().model).toBe('retrieval@v2-test');
    expect(other.status().index?.origin?.how).toBe('built');
    expect(other.status().index?.origin?.why).toMatch(
      new RegExp(`embedding version saved "retrieval@${version}", expected "retrieval@v2-test"$`),
    );
    const answer = await other.personalized(request(), 'cat-1', new Set(), 20);
    expect(answer!.indexVersion).toContain('+retrieval@v2-test@');
  });
});

describe(TowerEmbeddings.name, () => {
  it('embeds only new and changed ads', async () => {
    const model = await TwoTowerModel.open(await resolveCurrentTwoTowerModel(TEST_MODELS), {
      spec: TWO_TOWER_SPEC,
    });
    try {
      const sut = new TowerEmbeddings(model.version);
      const ads = catalogAds().slice(0, 50);
      const first = await sut.of(model, ads);
      expect(first.embedded).toBe(50);
      const changed = ads.map((ad, i) => (i === 3 ? { ...ad, title: `${ad.title} new` } : ad));
      const second = await sut.of(model, [...changed, ...catalogAds().slice(50, 52)]);
      expect(second.embedded).toBe(3);
      expect(Array.from(second.vectors[0])).toEqual(Array.from(first.vectors[0]));
      expect(Array.from(second.vectors[3])).not.toEqual(Array.from(first.vectors[3]));
      expect(sut.size).toBe(52);
    } finally {
      await model.close();
    }
  });
});
