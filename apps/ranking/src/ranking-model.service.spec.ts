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
    config = RankingConfigSchema.parse({
      MODELS_DIR: root,
      RANKING_WORKERS: '1',
      RANKING_MODEL_WATCH_MS: '0',
    });
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

  /** A copy of the served version under another version name, as a newly trained model would land. */
  async function deployCopy(newVersion: string, edit?: (dir: string) => Promise<void>): Promise<void> {
    const dir = join(root, 'ranking', newVersion);
    await cp(join(root, 'ranking', version), dir, { recursive: true });
    const path = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { version: string };
    manifest.version = newVersion;
    await writeFile(path, JSON.stringify(manifest));
    await edit?.(dir);
    await writeFile(join(root, 'ranking', 'current'), `${newVersion}\n`);
  }

  const row = () => new Float32Array(FEATURE_SPEC.dim).fill(0.1);

  it('serves the new version after a reload, and lets the old pool finish its jobs and close', async () => {
    sut = new RankingModelService(await RankingModelService.resolve(config), config);
    await sut.onModuleInit();
    const before = sut.status().pool!;
    const inFlight = Array.from({ length: 6 }, () => sut!.score(row(), 1, FEATURE_SPEC.dim));
    await deployCopy('20990101-reloaded');

    const outcome = await sut.reload();

    expect(outcome).toMatchObject({
      outcome: 'reloaded',
      previousVersion: version,
      version: '20990101-reloaded',
    });
    for (const scores of await Promise.all(inFlight)) expect(scores.modelVersion).toBe(version);
    await expect(sut.score(row(), 1, FEATURE_SPEC.dim)).resolves.toMatchObject({
      modelVersion: '20990101-reloaded',
    });
    expect(sut.current().version).toBe('20990101-reloaded');
    expect(before.alive).toBe(1);
    await sut.onModuleDestroy();
    expect(sut.status()).toMatchObject({ retiring: 0, pool: undefined });
    sut = undefined;
  });

  it('answers unchanged when current still names the served version', async () => {
    sut = new RankingModelService(await RankingModelService.resolve(config), config);
    await sut.onModuleInit();

    await expect(sut.reload()).resolves.toMatchObject({ outcome: 'unchanged', version });
  });

  it('refuses a version whose ONNX file cannot be loaded, and keeps serving the old one', async () => {
    sut = new RankingModelService(await RankingModelService.resolve(config), config);
    await sut.onModuleInit();
    await deployCopy('20990101-broken', (dir) => writeFile(join(dir, 'model.onnx'), 'not an onnx file'));

    await expect(sut.reload()).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(
        new RegExp(
          `refused the new ranking model: .*cannot load .*model\\.onnx.*; still serving ranking@${version}`,
        ),
      ),
    });
    await expect(sut.score(row(), 1, FEATURE_SPEC.dim)).resolves.toMatchObject({ modelVersion: version });
    expect(sut.status().pool).toMatchObject({ alive: 1 });
  });

  it('refuses a version trained on another feature spec, and keeps serving the old one', async () => {
    sut = new RankingModelService(await RankingModelService.resolve(config), config);
    await sut.onModuleInit();
    await deployCopy('20990101-stale', async (dir) => {
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
        featureSpec: { fingerprint: string };
      };
      manifest.featureSpec.fingerprint = '0123456789abcdef';
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    });

    await expect(sut.reload()).rejects.toThrow(/fp=0123456789abcdef/);
    expect(sut.current().version).toBe(version);
  });

  it('reloads on its own when the current file changes', async () => {
    const watching = RankingConfigSchema.parse({
      MODELS_DIR: root,
      RANKING_WORKERS: '1',
      RANKING_MODEL_WATCH_MS: '50',
    });
    sut = new RankingModelService(await RankingModelService.resolve(watching), watching);
    await sut.onModuleInit();

    await deployCopy('20990101-watched');

    const deadline = Date.now() + 10_000;
    while (sut.current().version !== '20990101-watched' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(sut.current().version).toBe('20990101-watched');
  });

  it('refuses a model trained on another feature spec, naming both fingerprints', async () => {
    const path = join(root, 'ranking', version, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { featureSpec: { fingerprint: string } };
    manifest.featureSpec.fingerprint = '0123456789abcdef';
    await writeFile(path, JSON.stringify(manifest));

    await expect(RankingModelService.resolve(config)).rejects.toThrow(
      `model ranking@${version} was trained on feature spec ${FEATURE_SPEC.name} v${FEATURE_SPEC.version} ` +
        `fp=0123456789abcdef dim=${FEATURE_SPEC.dim} but this build computes ${FEATURE_SPEC.name} ` +
        `v${FEATURE_SPEC.version} fp=${featureSpecFingerprint()} dim=${FEATURE_SPEC.dim}; retrain with npm run train`,
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
