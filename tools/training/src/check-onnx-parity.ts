#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkOnnxParity } from './onnx-parity.js';

/** Usage: node tools/training/dist/check-onnx-parity.js [models/ranking] — checks the current version. */
async function main(): Promise<void> {
  const [modelRoot = 'models/ranking'] = process.argv.slice(2);
  const version = (await readFile(join(modelRoot, 'current'), 'utf8')).trim();
  const dir = resolve(modelRoot, version);
  const report = await checkOnnxParity(dir);
  process.stdout.write(
    `onnx parity ${dir}: ${report.rows} rows, max |p_onnx - p_torch| = ${report.maxAbsDiff.toExponential(2)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`check-onnx-parity: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
