import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TWO_TOWER_SPEC, twoTowerSpecFingerprint } from '@adfunnel/features';
import { FeatureSpecMismatchError } from './feature-spec-mismatch.error.js';
import { ModelArtifactError } from './model-artifact.error.js';
import {
  type ResolvedTwoTowerModel,
  assertTwoTowerSpec,
  resolveCurrentTwoTowerModel,
  resolveTwoTowerVersion,
} from './two-tower-manifest.js';
import { TwoTowerModel } from './two-tower-model.js';

/**
 * A tiny model train_two_tower.py wrote (tools/training/make_two_tower_test_model.py): one epoch on a
 * planted export, tables of width 2. parity.json holds tower inputs and the vectors torch gave them.
 */
const MODELS_ROOT = fileURLToPath(new URL('./testing/models', import.meta.url));

interface TowerParity {
  rows: number;
  dense: number[][];
  tokens: number[][];
  embedding: number[][];
}

const inputsOf = (p: TowerParity) => ({
  rows: p.rows,
  dense: Float32Array.from(p.dense.flat()),
  tokens: Int32Array.from(p.tokens.flat()),
});

describe(TwoTowerModel.name, () => {
  let resolved: ResolvedTwoTowerModel;
  let parity: { user: TowerParity; ad: TowerParity };
  let sut: TwoTowerModel;

  beforeAll(async () => {
    resolved = await resolveCurrentTwoTowerModel(MODELS_ROOT);
    parity = JSON.parse(await readFile(join(resolved.dir, 'parity.json'), 'utf8')) as typeof parity;
    sut = await TwoTowerModel.open(resolved);
  });
  afterAll(async () => {
    await sut.close();
  });

  it('names the version current points at and the manifest’s dim', () => {
    expect(sut.version).toBe(resolved.version);
    expect(sut.name).toBe('retrieval');
    expect(sut.dim).toBe(32);
    expect(sut.manifest.inputSpec.fingerprint).toBe(twoTowerSpecFingerprint());
  });

  it('gives the user vectors torch gave the same inputs', async () => {
    const vectors = await sut.embedUsers(inputsOf(parity.user));
    expect(vectors).toHaveLength(parity.user.rows * sut.dim);
    parity.user.embedding.flat().forEach((v, i) => expect(vectors[i]).toBeCloseTo(v, 5));
  });

  it('gives the ad vectors torch gave, whatever the batch size', async () => {
    const whole = await sut.embedAds(inputsOf(parity.ad));
    const oneByOne = await sut.embedAds(inputsOf(parity.ad), 1);
    parity.ad.embedding.flat().forEach((v, i) => expect(whole[i]).toBeCloseTo(v, 5));
    expect(Array.from(oneByOne)).toEqual(Array.from(whole));
  });

  it('answers concurrent requests each with its own row', async () => {
    const rows = parity.user.dense.map((_, i) => ({
      rows: 1,
      dense: Float32Array.from(parity.user.dense[i]),
      tokens: Int32Array.from(parity.user.tokens[i]),
    }));
    const results = await Promise.all([...rows, ...rows].map((r) => sut.embedUsers(r)));
    results.forEach((vector, j) =>
      expect(vector[0]).toBeCloseTo(parity.user.embedding[j % rows.length][0], 5),
    );
  });

  it('refuses inputs of the wrong width', async () => {
    await expect(sut.embedUsers({ rows: 1, dense: new Float32Array(3), tokens: new Int32Array(3) })).rejects.toThrow(
      /need dense 1 x \d+ and tokens 1 x \d+, got 3 and 3/,
    );
  });

  it('refuses work once closed', async () => {
    const other = await TwoTowerModel.open(resolved);
    await other.close();
    await expect(other.embedUsers(inputsOf(parity.user))).rejects.toThrow(/closed/);
  });
});

describe('two-tower manifest validation', () => {
  let root: string;
  let version: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'two-tower-manifest-'));
    await cp(join(MODELS_ROOT, 'retrieval'), join(root, 'retrieval'), { recursive: true });
    version = (await readFile(join(root, 'retrieval', 'current'), 'utf8')).trim();
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const manifestPath = () => join(root, 'retrieval', version, 'manifest.json');
  const edit = async (change: (m: Record<string, unknown>) => void) => {
    const original = await readFile(manifestPath(), 'utf8');
    const manifest = JSON.parse(original) as Record<string, unknown>;
    change(manifest);
    await writeFile(manifestPath(), JSON.stringify(manifest));
    return () => writeFile(manifestPath(), original);
  };

  it('refuses towers trained on other inputs, naming both fingerprints', async () => {
    const restore = await edit((m) => {
      (m['inputSpec'] as { fingerprint: string }).fingerprint = '0123456789abcdef';
    });
    try {
      const resolved = await resolveTwoTowerVersion(root, 'retrieval', version);
      const run = () => assertTwoTowerSpec(resolved.manifest, TWO_TOWER_SPEC);
      expect(run).toThrow(FeatureSpecMismatchError);
      expect(run).toThrow(`fp=0123456789abcdef but this build encodes`);
      expect(run).toThrow(`fp=${twoTowerSpecFingerprint()}`);
      await expect(TwoTowerModel.open(resolved)).rejects.toThrow(FeatureSpecMismatchError);
    } finally {
      await restore();
    }
  });

  it('refuses a tower whose declared input width is not the spec’s', async () => {
    const restore = await edit((m) => {
      const user = (m['towers'] as { user: { inputs: { shape: unknown[] }[] } }).user;
      user.inputs[0].shape = ['N', 7];
    });
    try {
      const resolved = await resolveTwoTowerVersion(root, 'retrieval', version);
      expect(() => assertTwoTowerSpec(resolved.manifest, TWO_TOWER_SPEC)).toThrow(
        /user tower input "dense" \[N, 7\] but the spec takes dense \[N, \d+\]/,
      );
    } finally {
      await restore();
    }
  });

  it('reports what is wrong with an invalid manifest', async () => {
    const restore = await edit((m) => {
      delete m['towers'];
      m['kind'] = 'ranking';
    });
    try {
      const attempt = resolveTwoTowerVersion(root, 'retrieval', version);
      await expect(attempt).rejects.toThrow(ModelArtifactError);
      await expect(resolveTwoTowerVersion(root, 'retrieval', version)).rejects.toThrow(/kind: .*towers: /);
    } finally {
      await restore();
    }
  });

  it('refuses a version whose ONNX file is missing, and a missing current', async () => {
    await expect(resolveCurrentTwoTowerModel(root, 'nothing-here')).rejects.toThrow(/no current version/);
    const restore = await edit((m) => {
      (m['towers'] as { ad: { file: string } }).ad.file = 'gone.onnx';
    });
    try {
      await expect(resolveTwoTowerVersion(root, 'retrieval', version)).rejects.toThrow(/ad tower .*gone\.onnx/);
    } finally {
      await restore();
    }
  });
});
