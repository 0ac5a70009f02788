import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { checkOnnxParity } from './onnx-parity.js';

const MODEL_ROOT = fileURLToPath(new URL('../../../models/ranking', import.meta.url));

describe(checkOnnxParity.name, () => {
  it('finds the committed ONNX model giving the probabilities torch gave at training', async () => {
    const version = (await readFile(join(MODEL_ROOT, 'current'), 'utf8')).trim();

    const report = await checkOnnxParity(join(MODEL_ROOT, version));

    expect(report.rows).toBeGreaterThan(0);
    expect(report.heads).toEqual(['pCtr', 'pCvr', 'pHide']);
    expect(report.maxAbsDiff).toBeLessThan(1e-5);
  });

  it('checks the committed cold-start model on the heads its manifest lists', async () => {
    const version = (await readFile(join(MODEL_ROOT, 'cold-start'), 'utf8')).trim();

    const report = await checkOnnxParity(join(MODEL_ROOT, version));

    expect(report.heads).toEqual(['pCtr', 'pCvr', 'pHide']);
    expect(report.maxAbsDiff).toBeLessThan(1e-5);
  });
});
