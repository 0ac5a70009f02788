import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type TwoTowerSpec, twoTowerSpecFingerprint } from '@adfunnel/features';
import { z } from 'zod';
import { FeatureSpecMismatchError } from './feature-spec-mismatch.error.js';
import { MANIFEST_FILE } from './load-manifest.js';
import { ModelArtifactError } from './model-artifact.error.js';
import { CURRENT_FILE } from './resolve-current-model.js';

const TensorSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'int64']),
  shape: z.array(z.union([z.number().int().positive(), z.string().min(1)])),
  description: z.string().optional(),
});

const TowerFileSchema = z.object({
  file: z.string().min(1),
  inputs: z.array(TensorSchema).length(2),
  output: TensorSchema,
});

/** Recall at each K ("10", "50", ...), null where undefined. */
const RecallSchema = z.record(z.string(), z.number().min(0).max(1).nullable());

/** What train_two_tower.py claims about the towers it wrote (tools/training/README.md). */
export const TwoTowerManifestSchema = z.object({
  name: z.string().min(1),
  version: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a path-safe token such as 20250101-1a2b3c4d'),
  kind: z.literal('two-tower'),
  createdAt: z.iso.datetime({ offset: true }),
  inputSpec: z.object({
    name: z.string().min(1),
    version: z.number().int(),
    fingerprint: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits (twoTowerSpecFingerprint())'),
  }),
  /** Width of both towers' unit vectors: the index's dimension. */
  dim: z.number().int().positive(),
  towers: z.object({ user: TowerFileSchema, ad: TowerFileSchema }),
  metrics: z
    .object({
      heldOutClicks: z.number().int().nonnegative(),
      recallAtK: z.object({ model: RecallSchema, popular: RecallSchema }).loose(),
    })
    .loose(),
  trainingData: z.object({}).loose(),
  training: z.object({}).loose(),
  description: z.string().optional(),
});
export type TwoTowerManifest = z.infer<typeof TwoTowerManifestSchema>;
export type TowerName = keyof TwoTowerManifest['towers'];

export interface ResolvedTwoTowerModel {
  name: string;
  version: string;
  dir: string;
  manifest: TwoTowerManifest;
  /** Absolute paths of the two ONNX files. */
  userTowerPath: string;
  adTowerPath: string;
}

/** Reads and validates `<dir>/manifest.json` of a two-tower model and checks both ONNX files are there. */
export async function loadTwoTowerManifest(dir: string): Promise<TwoTowerManifest> {
  const path = join(dir, MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ModelArtifactError(`cannot read two-tower manifest ${path}: ${(err as Error).message}`);
  }
  const parsed = TwoTowerManifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ModelArtifactError(`two-tower manifest ${path} is invalid: ${problems.join('; ')}`);
  }
  for (const tower of ['user', 'ad'] as const) {
    const file = join(dir, parsed.data.towers[tower].file);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || info.size === 0) {
      throw new ModelArtifactError(
        `model ${parsed.data.name}@${parsed.data.version}: ${tower} tower ${file} named by ${path} is missing or empty`,
      );
    }
  }
  return parsed.data;
}

/** The version `<modelsRoot>/<name>/current` names (default name `retrieval`), validated. */
export async function resolveCurrentTwoTowerModel(
  modelsRoot: string,
  name = 'retrieval',
): Promise<ResolvedTwoTowerModel> {
  const pointer = join(resolve(modelsRoot, name), CURRENT_FILE);
  let version: string;
  try {
    version = (await readFile(pointer, 'utf8')).trim();
  } catch (err) {
    throw new ModelArtifactError(
      `no current version for model "${name}": cannot read ${pointer} (${(err as Error).message}); ` +
        'train one with npm run train (tools/training/train_two_tower.py)',
    );
  }
  return resolveTwoTowerVersion(modelsRoot, name, version, pointer);
}

export async function resolveTwoTowerVersion(
  modelsRoot: string,
  name: string,
  version: string,
  namedBy = 'the caller',
): Promise<ResolvedTwoTowerModel> {
  if (!/^[A-Za-z0-9._-]+$/.test(version) || version === '.' || version === '..') {
    throw new ModelArtifactError(`${namedBy} must name one version directory, found "${version}"`);
  }
  const dir = join(resolve(modelsRoot, name), version);
  const manifest = await loadTwoTowerManifest(dir);
  if (manifest.name !== name || manifest.version !== version) {
    throw new ModelArtifactError(
      `${namedBy} names ${name}@${version} but ${join(dir, MANIFEST_FILE)} describes ${manifest.name}@${manifest.version}`,
    );
  }
  return {
    name,
    version,
    dir,
    manifest,
    userTowerPath: join(dir, manifest.towers.user.file),
    adTowerPath: join(dir, manifest.towers.ad.file),
  };
}

/**
 * Refuses towers trained on other inputs than `spec` (normally TWO_TOWER_SPEC) encodes: another
 * fingerprint means any token bucket or dense column could mean something else to the model. Also
 * checks the towers' declared widths against the spec and the manifest's dim.
 */
export function assertTwoTowerSpec(manifest: TwoTowerManifest, spec: TwoTowerSpec): void {
  const trained = manifest.inputSpec;
  const fingerprint = twoTowerSpecFingerprint(spec);
  const model = `model ${manifest.name}@${manifest.version}`;
  if (trained.fingerprint !== fingerprint || trained.name !== spec.name) {
    throw new FeatureSpecMismatchError(
      `${model} was trained on two-tower inputs ${trained.name} v${trained.version} fp=${trained.fingerprint} ` +
        `but this build encodes ${spec.name} v${spec.version} fp=${fingerprint}; ` +
        'retrain with npm run train (tools/training/train_two_tower.py)',
    );
  }
  for (const tower of ['user', 'ad'] as const) {
    const declared = manifest.towers[tower];
    const expected = { dense: spec[tower].denseDim, tokens: spec[tower].tokenLength };
    for (const input of declared.inputs) {
      const width = input.shape[input.shape.length - 1];
      const want = expected[input.name as keyof typeof expected];
      if (want === undefined || width !== want) {
        throw new FeatureSpecMismatchError(
          `${model} declares ${tower} tower input "${input.name}" [${input.shape.join(', ')}] but the spec ` +
            `takes dense [N, ${expected.dense}] and tokens [N, ${expected.tokens}]; the manifest is inconsistent`,
        );
      }
    }
    const out = declared.output.shape[declared.output.shape.length - 1];
    if (out !== manifest.dim) {
      throw new FeatureSpecMismatchError(
        `${model} declares ${tower} tower output [${declared.output.shape.join(', ')}] but dim ${manifest.dim}`,
      );
    }
  }
}
