import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdfunnelError, type ScoreRequest, ScoreResponseSchema } from '@adfunnel/contracts';
import {
  FEATURE_SPEC,
  buildFeatureMatrix,
  featureRequestOf,
  featureSpecFingerprint,
} from '@adfunnel/features';
import {
  FakeCatalogSnapshots,
  SMALL_MARKETPLACE,
  catalogAds,
  catalogSnapshot,
  knownUserContext,
} from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { RankingConfigSchema } from './config.js';
import { RankingModelService } from './ranking-model.service.js';
import { RankingService } from './ranking.service.js';
import { ShadowLogPublisher } from './shadow/shadow-log.publisher.js';
import { ShadowModelService } from './shadow/shadow-model.service.js';

const MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));
const NOW = Date.UTC(2025, 5, 1, 12);

function requestFactory(overrides: Partial<ScoreRequest> = {}): ScoreRequest {
  return {
    requestId: 'req-1',
    deadlineAt: NOW + 50,
    user: knownUserContext(SMALL_MARKETPLACE, 2),
    surface: 'search',
    adIds: [5, 17, 3, 250],
    ...overrides,
  };
}

describe(RankingService.name, () => {
  const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-test'));
  let model: RankingModelService;
  let sut: RankingService;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    const config = RankingConfigSchema.parse({ MODELS_DIR, RANKING_WORKERS: '1' });
    model = new RankingModelService(await RankingModelService.resolve(config), config);
    await model.onModuleInit();
    sut = new RankingService(
      catalog.asService(),
      model,
      new ShadowModelService(config, model, new ShadowLogPublisher(config)),
    );
  });
  afterAll(async () => {
    await model.onModuleDestroy();
  });

  it('scores every ad in request order from the libs/features rows, and says which spec and catalog they came from', async () => {
    const request = requestFactory();

    const response = await sut.score(request, NOW);

    expect(ScoreResponseSchema.parse(response)).toEqual(response);
    expect(response.modelVersion).toBe(model.current().version);
    expect(response.pCtr).toHaveLength(4);
    expect(response.pCvr).toHaveLength(4);
    for (const p of [...response.pCtr, ...response.pCvr]) expect(p > 0 && p < 1).toBe(true);
    // The same catalog loaded anew: its category mixtures are decoded again, to the same values.
    const ads = catalogAds();
    const byId = new Map(ads.map((ad) => [ad.id, ad]));
    const expected = buildFeatureMatrix(
      featureRequestOf(
        request.user,
        'search',
        { query: request.query, contextAdId: request.contextAdId },
        { ads, byId },
      ),
      request.adIds.map((id) => byId.get(id)!),
    );
    const direct = await model.score(expected, request.adIds.length, FEATURE_SPEC.dim);
    expect(response.pCtr).toEqual(Array.from(direct.pCtr));
    expect(response.featureSpec).toBe(featureSpecFingerprint());
    expect(response.catalogVersion).toBe(catalog.snapshot().version);
  });

  it('gives each ad the score it gets alone, whatever the batch around it', async () => {
    const batch = await sut.score(requestFactory(), NOW);
    const alone = await sut.score(requestFactory({ adIds: [3] }), NOW);

    expect(alone.pCtr[0]).toBeCloseTo(batch.pCtr[2], 6);
    expect(alone.pCvr[0]).toBeCloseTo(batch.pCvr[2], 6);
  });

  it('rejects unknown ad ids, naming them', async () => {
    const err = await sut.score(requestFactory({ adIds: [5, 9001, 9002] }), NOW).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AdfunnelError);
    expect(err).toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('unknown ad ids 9001, 9002'),
    });
  });

  it('rejects an interest profile of the wrong length', async () => {
    const request = requestFactory();
    const bad = { ...request, user: { ...request.user, interests: [0.5, 0.5] } };

    await expect(sut.score(bad, NOW)).rejects.toMatchObject({
      code: 'invalid_request',
      message: 'user.interests has 2 values, expected one per topic (16)',
    });
  });

  it('answers timeout once the deadline has passed', async () => {
    await expect(sut.score(requestFactory({ deadlineAt: NOW - 5 }), NOW)).rejects.toMatchObject({
      code: 'timeout',
    });
  });
});
