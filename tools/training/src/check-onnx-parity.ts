#!/usr/bin/env node
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkOnnxParity } from './onnx-parity.js';

/**
 * Usage: node tools/training/dist/check-onnx-parity.js [models/ranking | models/ranking/<version>] —
 * checks the version `current` names, or the version directory given.
 */
async function main(): Promise<void> {
  const [target = 'models/ranking'] = process.argv.slice(2);
  const isVersionDir = await stat(join(target, 'manifest.json')).then(
    (s) => s.isFile(),
    () => false,
  );
  const dir = isVersionDir
    ? resolve(target)
    : resolve(target, (await readFile(join(target, 'current'), 'utf8')).trim());
  const report = await checkOnnxParity(dir);
  process.stdout.write(
    `onnx parity ${dir}: ${report.rows} rows x ${report.heads.join(', ')}, max |p_onnx - p_torch| = ${report.maxAbsDiff.toExponential(2)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`check-onnx-parity: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
