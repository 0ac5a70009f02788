import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadManifest } from './load-manifest.js';
import { ModelArtifactError } from './model-artifact.error.js';
import type { ModelManifest } from './model-manifest.js';

export const CURRENT_FILE = 'current';

export interface ResolvedModel {
  name: string;
  version: string;
  /** Absolute directory of this version. */
  dir: string;
  /** Absolute path of the ONNX file. */
  modelPath: string;
  manifest: ModelManifest;
}

/**
 * Finds the version named by `<modelsRoot>/<name>/current` (a one-line text file holding a version
 * directory name; plain files rather than symlinks so the layout survives git and Docker on any OS).
 */
export async function resolveCurrentModel(modelsRoot: string, name: string): Promise<ResolvedModel> {
  const modelRoot = resolve(modelsRoot, name);
  const pointer = join(modelRoot, CURRENT_FILE);
  let version: string;
  try {
    version = (await readFile(pointer, 'utf8')).trim();
  } catch (err) {
    throw new ModelArtifactError(
      `no current version for model "${name}": cannot read ${pointer} (${(err as Error).message}); ` +
        'train one with npm run train',
    );
  }
  if (!isVersionName(version)) {
    throw new ModelArtifactError(`${pointer} must hold one version directory name, found "${version}"`);
  }
  return resolveModelVersion(modelsRoot, name, version, pointer);
}

/** One version of a model, `<modelsRoot>/<name>/<version>`, whatever `current` names. */
export async function resolveModelVersion(
  modelsRoot: string,
  name: string,
  version: string,
  namedBy?: string,
): Promise<ResolvedModel> {
  if (!isVersionName(version)) throw new ModelArtifactError(`"${version}" is not a version directory name`);
  const dir = join(resolve(modelsRoot, name), version);
  const manifest = await loadManifest(dir);
  if (manifest.name !== name || manifest.version !== version) {
    throw new ModelArtifactError(
      `${namedBy ?? 'the caller'} names ${name}@${version} but ${join(dir, 'manifest.json')} describes ` +
        `${manifest.name}@${manifest.version}`,
    );
  }
  return { name, version, dir, modelPath: join(dir, manifest.file), manifest };
}

function isVersionName(version: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(version) && version !== '.' && version !== '..';
}
