import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type ScoreRequest, ScoreResponseSchema, type Surface } from '@adfunnel/contracts';
import { type LoggedOutcome, applyCalibrationMap } from '@adfunnel/models';
import { Metrics, SystemClock } from '@adfunnel/platform';
import {
  FakeCatalogSnapshots,
  SMALL_MARKETPLACE,
  catalogSnapshot,
  knownUserContext,
  metricValue,
} from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type RankingConfig, RankingConfigSchema } from '../config.js';
import { RankingMetrics } from '../ranking-metrics.js';
import { RankingModelService } from '../ranking-model.service.js';
import { RankingService } from '../ranking.service.js';
import { ShadowLogPublisher } from '../shadow/shadow-log.publisher.js';
import { ShadowModelService } from '../shadow/shadow-model.service.js';
import { ServingCalibration } from './serving-calibration.service.js';

const MODELS_DIR = fileURLToPath(new URL('../../../../models', import.meta.url));
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

/** Slot-0 impressions of `modelVersion` on `surface` clicked at 1.25 x what the model predicted. */
function underPredicted(modelVersion: string, surface: Surface, n = 40_000): LoggedOutcome[] {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => {
    const predicted = 0.01 + 0.1 * random();
    return {
      surface,
      bidType: 'CPC',
      modelVersion,
      slot: 0,
      predicted,
      clicked: random() < 1.25 * predicted,
    };
  });
}

describe(ServingCalibration.name, () => {
  const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-test'));
  let config: RankingConfig;
  let model: RankingModelService;

  /** The calibrators are given their outcomes (install), so the event store is never read. */
  const calibrationWith = (env: Record<string, string> = {}) =>
    new ServingCalibration(
      RankingConfigSchema.parse({ ...env, MODELS_DIR }),
      {} as DataSource,
      catalog.asService(),
      new SystemClock(),
    );
  const rankingWith = (calibration: ServingCalibration) =>
    new RankingService(
      catalog.asService(),
      model,
      new ShadowModelService(config, model, new ShadowLogPublisher(config)),
      calibration,
    );

  beforeAll(async () => {
    Logger.overrideLogger(false);
    config = RankingConfigSchema.parse({ MODELS_DIR, RANKING_WORKERS: '1' });
    model = new RankingModelService(await RankingModelService.resolve(config), config);
    await model.onModuleInit();
  });
  afterAll(async () => {
    await model.onModuleDestroy();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('answers the calibrated pCTR of the served model version, the model own beside it, and names the calibrator', async () => {
    const version = model.current().version;
    const calibration = calibrationWith();
    const set = calibration.install(underPredicted(version, 'search'), NOW);
    const sut = rankingWith(calibration);

    const response = await sut.score(requestFactory(), NOW);

    expect(ScoreResponseSchema.parse(response)).toEqual(response);
    const raw = await rankingWith(calibrationWith({ RANKING_CALIBRATION: 'off' })).score(
      requestFactory(),
      NOW,
    );
    expect(response.pCtrRaw).toEqual(raw.pCtr);
    const [searchCalibrator] = set.calibrators;
    expect(response.pCtr).toEqual(raw.pCtr.map((p) => applyCalibrationMap(searchCalibrator.map, p)));
    response.pCtr.forEach((p, i) => expect(p / raw.pCtr[i]).toBeGreaterThan(1.1));
    expect(response.calibration).toBe(`${version}@${new Date(NOW).toISOString()}`);
    expect(response.pCvr).toEqual(raw.pCvr);
  });

  it('never applies a calibrator fitted for another model version, or another surface', async () => {
    const calibration = calibrationWith();
    calibration.install([
      ...underPredicted('some-other-version', 'search'),
      ...underPredicted(model.current().version, 'home_feed'),
    ]);
    const sut = rankingWith(calibration);
    const raw = await rankingWith(calibrationWith({ RANKING_CALIBRATION: 'off' })).score(
      requestFactory(),
      NOW,
    );

    const response = await sut.score(requestFactory(), NOW);

    expect(response.pCtr).toEqual(raw.pCtr);
    expect(response).not.toHaveProperty('pCtrRaw');
    expect(response).not.toHaveProperty('calibration');
    expect(
      calibration
        .status()
        .calibrators.map((c) => c.modelVersion)
        .sort(),
    ).toEqual([model.current().version, 'some-other-version']);
  });

  it('ages the window from the fit time by RANKING_CALIBRATION_HALF_LIFE_MS: clicks an hour old weigh next to nothing', () => {
    const hourOld = underPredicted(model.current().version, 'search').map((o) => ({
      ...o,
      servedAt: NOW - 3_600_000,
    }));
    const names = (env: Record<string, string>) =>
      calibrationWith(env)
        .install(hourOld, NOW)
        .calibrators.map((c) => c.surface);

    expect(names({})).toEqual(['search']);
    expect(names({ RANKING_CALIBRATION_HALF_LIFE_MS: '3600000' })).toEqual(['search']);
    expect(names({ RANKING_CALIBRATION_HALF_LIFE_MS: '60000' })).toEqual([]);
  });

  it('leaves a version uncalibrated until its window holds RANKING_CALIBRATION_MIN_CLICKS clicks', async () => {
    const calibration = calibrationWith({ RANKING_CALIBRATION_MIN_CLICKS: '100000' });
    calibration.install(underPredicted(model.current().version, 'search'));

    const response = await rankingWith(calibration).score(requestFactory(), NOW);

    expect(response).not.toHaveProperty('pCtrRaw');
    expect(calibration.status()).toMatchObject({ enabled: true, impressions: 40_000, calibrators: [] });
  });

  it('serves the model pCTR when RANKING_CALIBRATION is off, whatever is installed', async () => {
    const calibration = calibrationWith({ RANKING_CALIBRATION: 'off' });
    calibration.install(underPredicted(model.current().version, 'search'));

    const response = await rankingWith(calibration).score(requestFactory(), NOW);

    expect(response).not.toHaveProperty('pCtrRaw');
  });

  it('tells /metrics predicted / observed clicks per surface, as served and as the model predicted', async () => {
    const calibration = calibrationWith();
    const outcomes = underPredicted(model.current().version, 'search');
    // As served: the calibrator had brought the predictions up to what the users clicked.
    const served = outcomes.map((o) => ({ ...o, predicted: 1.25 * o.predicted }));
    calibration.install(outcomes, NOW, served);
    const metrics = new Metrics({ service: 'ranking', defaultMetrics: false });
    const shadow = new ShadowModelService(config, model, new ShadowLogPublisher(config));
    const sut = new RankingMetrics(metrics, model, shadow, calibration);

    const response = await rankingWith(calibration).score(requestFactory(), NOW);
    sut.scored('search', response);
    const text = await metrics.scrape();

    const ratio = (predictions: string) =>
      metricValue(text, 'adfunnel_ranking_calibration_ratio', { surface: 'search', predictions });
    // Users clicked 1.25 x what the model predicted (in expectation): it under-predicts.
    expect(ratio('model')).toBeGreaterThan(0.7);
    expect(ratio('model')).toBeLessThan(0.9);
    expect(ratio('served')! / ratio('model')!).toBeCloseTo(1.25, 3);
    expect(metricValue(text, 'adfunnel_ranking_calibration_ratio', { surface: 'home_feed' })).toBeUndefined();
    expect(calibration.ratiosBySurface()).toEqual([
      { surface: 'search', served: ratio('served'), model: ratio('model') },
    ]);
    expect(metricValue(text, 'adfunnel_ranking_calibrators')).toBe(calibration.status().calibrators.length);
    expect(metricValue(text, 'adfunnel_ranking_calibration_fitted_timestamp_seconds')).toBe(NOW / 1000);
    const scored = (calibrated: string) =>
      metricValue(text, 'adfunnel_ranking_scored_candidates_total', { surface: 'search', calibrated });
    expect([scored('true'), scored('false')]).toEqual([4, 0]);
    const version = model.current().version;
    expect(metricValue(text, 'adfunnel_model_info', { stage: 'ranking', role: 'live', version })).toBe(1);
  });

  it('logs a refit only when it changes what is calibrated, and warns when one fails', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const version = model.current().version;
    const calibration = calibrationWith();
    const messages = () => log.mock.calls.map((call): unknown => call[0]);

    calibration.install(underPredicted(version, 'search'));
    expect(messages()).toEqual([{ msg: 'calibrators applied', calibrators: [`${version}/search/*`] }]);

    // The routine refit, every RANKING_CALIBRATION_REFRESH_MS: the same calibrators, refitted.
    calibration.install(underPredicted(version, 'search', 30_000));
    expect(log).toHaveBeenCalledTimes(1);

    log.mockClear();
    calibration.install(underPredicted(version, 'home_feed'));
    expect(messages()).toEqual([
      { msg: 'calibrators applied', calibrators: [`${version}/home_feed/*`] },
      {
        msg: expect.stringMatching(/^calibrators dropped .*a surface is served uncalibrated$/),
        calibrators: [`${version}/search/*`],
      },
    ]);

    // An event store that cannot be read: the refit fails, the calibrators of the last one keep serving.
    await calibration.refresh();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatchObject({ msg: 'calibration refresh failed' });
    expect(calibration.status().calibrators.map((c) => c.surface)).toEqual(['home_feed']);
  });
});
