import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FEATURE_SPEC, featureSpecFingerprint } from '@adfunnel/features';
import { Logger } from '@nestjs/common';
import { type RankingConfig, RankingConfigSchema } from './config.js';
import { RankingModelProbe } from './ranking-model.probe.js';
import { RankingModelService } from './ranking-model.service.js';

const MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));

describe(RankingModelService.name, () => {
  let root: string;
  let version: string;
  let config: RankingConfig;
  let sut: RankingModelService | undefined;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'adfunnel-ranking-models-'));
    await cp(join(MODELS_DIR, 'ranking'), join(root, 'ranking'), { recursive: true });
    version = (await readFile(join(root, 'ranking', 'current'), 'utf8')).trim();
    config = RankingConfigSchema.parse({ MODELS_DIR: root, RANKING_WORKERS: '1' });
    sut = undefined;
  });
  afterEach(async () => {
    await sut?.onModuleDestroy();
    await rm(root, { recursive: true, force: true });
  });

  it('loads the current model and reports it healthy once the workers are up', async () => {
    sut = new RankingModelService(await RankingModelService.resolve(config), config);
    const probe = new RankingModelProbe(sut);
    await expect(probe.check()).rejects.toThrow(`ranking model ranking@${version} is not loaded yet`);

    await sut.onModuleInit();

    await expect(probe.check()).resolves.toMatchObject({
      name: 'ranking',
      version,
      featureFingerprint: featureSpecFingerprint(),
      featureDim: FEATURE_SPEC.dim,
      workers: 1,
      workersAlive: 1,
    });
  });

  it('refuses a model trained on another feature spec, naming both fingerprints', async () => {
    const path = join(root, 'ranking', version, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { featureSpec: { fingerprint: string } };
    manifest.featureSpec.fingerprint = '0123456789abcdef';
    await writeFile(path, JSON.stringify(manifest));

    await expect(RankingModelService.resolve(config)).rejects.toThrow(
      `model ranking@${version} was trained on feature spec ${FEATURE_SPEC.name} v1 fp=0123456789abcdef dim=73 ` +
        `but this build computes ${FEATURE_SPEC.name} v1 fp=${featureSpecFingerprint()} dim=73; retrain with npm run train`,
    );
  });

  it('refuses a model directory without its ONNX file', async () => {
    await rm(join(root, 'ranking', version, 'model.onnx'));

    await expect(RankingModelService.resolve(config)).rejects.toThrow(/ONNX file .*model\.onnx.* is missing/);
  });

  it('refuses a models directory without the model', async () => {
    const elsewhere = RankingConfigSchema.parse({ MODELS_DIR: join(root, 'absent') });

    await expect(RankingModelService.resolve(elsewhere)).rejects.toThrow(
      /no current version for model "ranking"/,
    );
  });
});
