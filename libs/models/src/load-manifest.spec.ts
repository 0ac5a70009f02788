import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadManifest } from './load-manifest.js';
import { ModelArtifactError } from './model-artifact.error.js';
import { manifestFactory } from './model-manifest.factory.js';

describe(loadManifest.name, () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adfunnel-manifest-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the validated manifest when the model file is present', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifestFactory()));
    await writeFile(join(dir, 'model.onnx'), 'not empty');

    const sut = await loadManifest(dir);

    expect(sut.version).toBe('20250101-00c0ffee');
    expect(sut.featureSpec.dim).toBe(manifestFactory().featureSpec.dim);
  });

  it('names the missing ONNX file', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifestFactory()));

    await expect(loadManifest(dir)).rejects.toThrow(/ONNX file .*model\.onnx.* is missing/);
  });

  it('names each invalid field', async () => {
    const bad = { ...manifestFactory(), version: 'a/b', featureSpec: { ...manifestFactory().featureSpec, fingerprint: 'xyz' } };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(bad));

    const err = await loadManifest(dir).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ModelArtifactError);
    expect((err as Error).message).toMatch(/version: must be a path-safe token/);
    expect((err as Error).message).toMatch(/featureSpec\.fingerprint: must be 16 hex digits/);
  });

  it('says when there is no manifest at all', async () => {
    await expect(loadManifest(dir)).rejects.toThrow(/cannot read model manifest .*manifest\.json/);
  });
});
