import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_SPEC } from '@adfunnel/features';
import { OnnxWorkerPool, assertFeatureSpec, loadManifest, rankingOutputsOf } from '@adfunnel/models';

/** parity.json, written by train_ranker.py beside model.onnx. */
interface ParityFixture {
  rows: number;
  dim: number;
  features: number[][];
  pCtr: number[];
  pCvr: number[];
  /** Models with a hide head only. */
  pHide?: number[];
}

export interface ParityReport {
  rows: number;
  /** The heads compared: pCtr, pCvr and, for a model with a hide head, pHide. */
  heads: string[];
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
    outputNames: rankingOutputsOf(manifest),
    workers: 1,
    label: `${manifest.name}@${manifest.version}`,
  });
  try {
    const scores = await pool.run(Float32Array.from(fixture.features.flat()), fixture.rows, fixture.dim);
    const pairs: [Float32Array, number[]][] = [
      [scores.pCtr, fixture.pCtr],
      [scores.pCvr, fixture.pCvr],
    ];
    if (scores.pHide !== undefined || fixture.pHide !== undefined) {
      if (scores.pHide === undefined || fixture.pHide === undefined) {
        throw new Error(
          `${versionDir}: the manifest ${scores.pHide ? 'lists' : 'does not list'} p_hide but parity.json ` +
            `${fixture.pHide ? 'has' : 'has no'} pHide`,
        );
      }
      pairs.push([scores.pHide, fixture.pHide]);
    }
    let maxAbsDiff = 0;
    for (const [got, expected] of pairs) {
      expected.forEach((p, i) => {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - p));
      });
    }
    if (!(maxAbsDiff <= tolerance)) {
      throw new Error(`ONNX and torch disagree on ${versionDir}: max |diff| ${maxAbsDiff} > ${tolerance}`);
    }
    return {
      rows: fixture.rows,
      heads: pairs.length === 3 ? ['pCtr', 'pCvr', 'pHide'] : ['pCtr', 'pCvr'],
      maxAbsDiff,
    };
  } finally {
    await pool.close();
  }
}
