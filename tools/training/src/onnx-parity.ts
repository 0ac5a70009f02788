import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_SPEC } from '@adfunnel/features';
import { OnnxWorkerPool, assertFeatureSpec, loadManifest } from '@adfunnel/models';

/** parity.json, written by train_ranker.py beside model.onnx. */
interface ParityFixture {
  rows: number;
  dim: number;
  features: number[][];
  pCtr: number[];
  pCvr: number[];
}

export interface ParityReport {
  rows: number;
  maxAbsDiff: number;
}

/**
 * Loads a version directory the way serving does (manifest, feature-spec check, worker pool) and
 * compares its probabilities on the stored rows with the ones torch gave them.
 */
export async function checkOnnxParity(versionDir: string, tolerance = 1e-5): Promise<ParityReport> {
  const manifest = await loadManifest(versionDir);
  assertFeatureSpec(manifest, FEATURE_SPEC);
  const fixture = JSON.parse(await readFile(join(versionDir, 'parity.json'), 'utf8')) as ParityFixture;
  const pool = await OnnxWorkerPool.open({
    modelPath: join(versionDir, manifest.file),
    dim: manifest.featureSpec.dim,
    workers: 1,
    label: `${manifest.name}@${manifest.version}`,
  });
  try {
    const scores = await pool.run(Float32Array.from(fixture.features.flat()), fixture.rows, fixture.dim);
    let maxAbsDiff = 0;
    for (const [got, expected] of [
      [scores.pCtr, fixture.pCtr],
      [scores.pCvr, fixture.pCvr],
    ] as const) {
      expected.forEach((p, i) => {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - p));
      });
    }
    if (!(maxAbsDiff <= tolerance)) {
      throw new Error(`ONNX and torch disagree on ${versionDir}: max |diff| ${maxAbsDiff} > ${tolerance}`);
    }
    return { rows: fixture.rows, maxAbsDiff };
  } finally {
    await pool.close();
  }
}
