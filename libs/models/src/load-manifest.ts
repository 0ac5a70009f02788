import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelArtifactError } from './model-artifact.error.js';
import { type ModelManifest, ModelManifestSchema } from './model-manifest.js';

export const MANIFEST_FILE = 'manifest.json';

/** Reads and validates `<dir>/manifest.json`, and checks that the ONNX file it names is there. */
export async function loadManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelArtifactError(`cannot read model manifest ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelArtifactError(`model manifest ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ModelArtifactError(`model manifest ${path} is invalid: ${problems.join('; ')}`);
  }
  const modelFile = join(dir, parsed.data.file);
  const info = await stat(modelFile).catch(() => undefined);
  if (!info?.isFile() || info.size === 0) {
    throw new ModelArtifactError(
      `model ${parsed.data.name}@${parsed.data.version}: ONNX file ${modelFile} named by ${path} is missing or empty`,
    );
  }
  return parsed.data;
}
