import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { manifestFactory } from './model-manifest.factory.js';
import { resolveCurrentModel } from './resolve-current-model.js';

describe(resolveCurrentModel.name, () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'adfunnel-models-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeVersion(version: string, manifestVersion = version): Promise<void> {
    const dir = join(root, 'ranking', version);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifestFactory({ version: manifestVersion })));
    await writeFile(join(dir, 'model.onnx'), 'bytes');
  }

  it('follows the current pointer to the version directory', async () => {
    await writeVersion('20250101-00c0ffee');
    await writeVersion('20250102-0badf00d');
    await writeFile(join(root, 'ranking', 'current'), '20250102-0badf00d\n');

    const sut = await resolveCurrentModel(root, 'ranking');

    expect(sut.version).toBe('20250102-0badf00d');
    expect(sut.modelPath).toBe(join(root, 'ranking', '20250102-0badf00d', 'model.onnx'));
    expect(sut.manifest.name).toBe('ranking');
  });

  it('tells the user to train when there is no current pointer', async () => {
    await expect(resolveCurrentModel(root, 'ranking')).rejects.toThrow(
      /no current version for model "ranking".*npm run train/,
    );
  });

  it('refuses a pointer that climbs out of the model directory', async () => {
    await mkdir(join(root, 'ranking'), { recursive: true });
    await writeFile(join(root, 'ranking', 'current'), '../../etc');

    await expect(resolveCurrentModel(root, 'ranking')).rejects.toThrow(/must hold one version directory name/);
  });

  it('refuses a manifest describing another version than the directory', async () => {
    await writeVersion('20250102-0badf00d', '20250101-00c0ffee');
    await writeFile(join(root, 'ranking', 'current'), '20250102-0badf00d');

    await expect(resolveCurrentModel(root, 'ranking')).rejects.toThrow(/describes ranking@20250101-00c0ffee/);
  });
});
