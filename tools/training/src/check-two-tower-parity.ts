#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { TwoTowerModel, resolveTwoTowerVersion } from '@adfunnel/models';

interface TowerParity {
  rows: number;
  dense: number[][];
  tokens: number[][];
  embedding: number[][];
}

/**
 * Loads a two-tower version the way retrieval does (manifest, input-spec check, a worker per tower)
 * and checks that onnxruntime-node gives the vectors torch gave the rows in parity.json.
 * Usage: node tools/training/dist/check-two-tower-parity.js models/retrieval/<version>
 */
async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: check-two-tower-parity.js <models>/<name>/<version>');
  const versionDir = resolve(dir);
  const resolved = await resolveTwoTowerVersion(
    dirname(dirname(versionDir)),
    basename(dirname(versionDir)),
    basename(versionDir),
  );
  const parity = JSON.parse(await readFile(join(versionDir, 'parity.json'), 'utf8')) as Record<
    'user' | 'ad',
    TowerParity
  >;
  const model = await TwoTowerModel.open(resolved);
  try {
    let worst = 0;
    for (const tower of ['user', 'ad'] as const) {
      const p = parity[tower];
      if (p.rows === 0) continue;
      const inputs = {
        rows: p.rows,
        dense: Float32Array.from(p.dense.flat()),
        tokens: Int32Array.from(p.tokens.flat()),
      };
      const got = tower === 'user' ? await model.embedUsers(inputs) : await model.embedAds(inputs);
      p.embedding.flat().forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - got[i]));
      });
    }
    if (!(worst < 1e-4)) throw new Error(`ONNX and torch disagree by up to ${worst} on the parity rows`);
    process.stdout.write(
      `${resolved.name}@${resolved.version}: both towers match torch on the parity rows (max |diff| ${worst.toExponential(2)})\n`,
    );
  } finally {
    await model.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`check-two-tower-parity: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
