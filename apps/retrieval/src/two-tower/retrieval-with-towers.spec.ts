import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CandidatesRequest } from '@adfunnel/contracts';
import {
  FakeCatalogSnapshots,
  SMALL_MARKETPLACE,
  catalogAds,
  catalogSnapshot,
  knownUserContext,
} from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { RetrievalConfigSchema, type RetrievalConfig } from '../config.js';
import { IndexLifecycleService } from '../index/index-lifecycle.service.js';
import { RetrievalService } from '../retrieval.service.js';
import { CandidateSources } from '../sources/candidate-sources.js';
import { TrendingAds } from '../sources/trending-ads.js';
import { ActivityUserQueryVector } from '../sources/user-query-vector.js';
import { TwoTowerRetrievalService } from './two-tower-retrieval.service.js';

/** The tiny model libs/models' tests load (tools/training/make_two_tower_test_model.py). */
const TEST_MODELS = fileURLToPath(new URL('../../../../libs/models/src/testing/models', import.meta.url));

describe('RetrievalService with the two-tower model', () => {
  let modelsDir: string;
  let towers: TwoTowerRetrievalService;
  let sut: RetrievalService;
  let catalog: FakeCatalogSnapshots;

  const request = (over: Partial<CandidatesRequest> = {}): CandidatesRequest => ({
    requestId: 'req-1',
    deadlineAt: Date.now() + 10_000,
    user: knownUserContext(SMALL_MARKETPLACE, 3),
    surface: 'home_feed',
    limit: 100,
    ...over,
  });

  beforeAll(async () => {
    Logger.overrideLogger(false);
    modelsDir = await mkdtemp(join(tmpdir(), 'retrieval-towers-'));
    await cp(join(TEST_MODELS, 'retrieval'), join(modelsDir, 'retrieval'), { recursive: true });
    catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', catalogAds()));
    const config: RetrievalConfig = RetrievalConfigSchema.parse({
      MODELS_DIR: modelsDir,
      RETRIEVAL_MODEL_WATCH_MS: '0',
    });
    const lifecycle = new IndexLifecycleService(catalog.asService(), config);
    await lifecycle.onApplicationBootstrap();
    towers = new TwoTowerRetrievalService(catalog.asService(), config);
    await towers.onApplicationBootstrap();
    const sources = new CandidateSources(new ActivityUserQueryVector(), new TrendingAds(null, 100, 5000), {
      annOverfetch: config.RETRIEVAL_ANN_OVERFETCH,
      querySeeds: config.RETRIEVAL_QUERY_SEEDS,
    });
    sut = new RetrievalService(lifecycle, sources, config, towers);
    // Two indexes of 1,500 ads and two tower workers: more than jest's 5 s default on a loaded machine.
  }, 60_000);
  afterAll(async () => {
    await towers.onModuleDestroy();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it('serves the towers’ candidates as the ann source and names the tower index', async () => {
    const r = request();
    const answer = await sut.towerCandidates(r);
    expect(answer).toBeDefined();

    const response = sut.candidates(r, Date.now(), new Set(), answer);

    const ann = response.adIds.filter((_, i) => ['ann', 'exact'].includes(response.sources[i]));
    expect(ann.length).toBeGreaterThan(0);
    for (const adId of ann) expect(answer!.adIds).toContain(adId);
    expect(response.indexVersion).toContain(` ann:cat-1+retrieval@${answer!.modelVersion}@`);
  });

  it('falls back to the heuristic for an answer computed on another catalog version', async () => {
    const r = request();
    const answer = await sut.towerCandidates(r);
    const stale = { ...answer!, catalogVersion: 'cat-0' };

    const response = sut.candidates(r, Date.now(), new Set(), stale);
    const heuristic = sut.candidates(r, Date.now(), new Set());

    expect(response).toEqual(heuristic);
    expect(response.indexVersion).not.toContain('ann:');
  });

  it('asks the towers nothing for a surface without an ann share', async () => {
    const quotas = RetrievalConfigSchema.parse({ RETRIEVAL_QUOTAS_SEARCH: 'lexical:0.7,query:0.3' });
    const lifecycle = new IndexLifecycleService(catalog.asService(), quotas);
    await lifecycle.onApplicationBootstrap();
    const sources = new CandidateSources(new ActivityUserQueryVector(), new TrendingAds(null, 100, 5000), {
      annOverfetch: 1,
      querySeeds: 20,
    });
    const searchOnly = new RetrievalService(lifecycle, sources, quotas, towers);
    expect(await searchOnly.towerCandidates(request({ surface: 'search', query: 'shoes' }))).toBeUndefined();
  });
});
