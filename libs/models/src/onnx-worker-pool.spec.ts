import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FEATURE_SPEC } from '@adfunnel/features';
import { OnnxWorkerPool } from './onnx-worker-pool.js';
import { type ResolvedModel, resolveCurrentModel } from './resolve-current-model.js';

/** The committed default model: these tests hold the artifact in models/ranking to its claims. */
const MODELS_ROOT = fileURLToPath(new URL('../../../models', import.meta.url));

interface ParityFixture {
  rows: number;
  dim: number;
  features: number[][];
  pCtr: number[];
  pCvr: number[];
}

describe(OnnxWorkerPool.name, () => {
  let model: ResolvedModel;
  let parity: ParityFixture;
  let sut: OnnxWorkerPool;

  beforeAll(async () => {
    model = await resolveCurrentModel(MODELS_ROOT, 'ranking');
    parity = JSON.parse(await readFile(join(model.dir, 'parity.json'), 'utf8')) as ParityFixture;
    sut = await OnnxWorkerPool.open({ modelPath: model.modelPath, dim: FEATURE_SPEC.dim, workers: 2, label: 'ranking-test' });
  });
  afterAll(async () => {
    await sut.close();
  });

  it('gives the probabilities torch gave the same rows when training', async () => {
    const scores = await sut.run(Float32Array.from(parity.features.flat()), parity.rows, parity.dim);

    expect(scores.pCtr).toHaveLength(parity.rows);
    parity.pCtr.forEach((p, i) => expect(scores.pCtr[i]).toBeCloseTo(p, 5));
    parity.pCvr.forEach((p, i) => expect(scores.pCvr[i]).toBeCloseTo(p, 5));
  });

  it('answers every job when more are submitted than there are workers, each with its own rows', async () => {
    const single = (i: number) => Float32Array.from(parity.features[i % parity.rows]);

    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => sut.run(single(i), 1, parity.dim)));

    results.forEach((r, i) => expect(r.pCtr[0]).toBeCloseTo(parity.pCtr[i % parity.rows], 5));
    expect(sut.stats()).toMatchObject({ alive: 2, busy: 0, queued: 0 });
  });

  it('transfers the features by default and copies them when asked not to', async () => {
    const moved = Float32Array.from(parity.features[0]);
    const kept = Float32Array.from(parity.features[0]);

    await sut.run(moved, 1, parity.dim);
    await sut.run(kept, 1, parity.dim, { transfer: false });

    expect(moved).toHaveLength(0);
    expect(kept).toHaveLength(parity.dim);
  });

  it('scores a view into a larger buffer without detaching the rest', async () => {
    const whole = Float32Array.from(parity.features.flat());
    const second = whole.subarray(parity.dim, 2 * parity.dim);

    const scores = await sut.run(second, 1, parity.dim);

    expect(scores.pCtr[0]).toBeCloseTo(parity.pCtr[1], 5);
    expect(whole).toHaveLength(parity.rows * parity.dim);
  });

  it('rejects a matrix whose size does not match rows x dim', async () => {
    await expect(sut.run(new Float32Array(10), 2, parity.dim)).rejects.toThrow(
      `feature matrix has 10 values, expected rows x dim = 2 x ${parity.dim}`,
    );
    await expect(sut.run(new Float32Array(12), 1, 12)).rejects.toThrow(`dim 12 but model ranking-test takes ${FEATURE_SPEC.dim}`);
  });

  it('rejects the job of a worker that dies, naming it, and replaces the worker', async () => {
    const pool = await OnnxWorkerPool.open({
      modelPath: model.modelPath,
      dim: 4,
      workers: 1,
      label: 'exiting',
      workerScript: new URL('./testing/exiting-worker.js', import.meta.url),
    });
    try {
      await expect(pool.run(new Float32Array(13 * 4), 13, 4)).rejects.toThrow(
        'onnx worker #0 for exiting died (exit code 3) while scoring 13 rows',
      );
      await waitFor(() => pool.stats().alive === 1);

      const after = await pool.run(new Float32Array(2 * 4), 2, 4);

      expect(Array.from(after.pCtr)).toEqual([0.5, 0.5]);
      expect(pool.stats()).toMatchObject({ restarts: 1, failed: 1 });
    } finally {
      await pool.close();
    }
  });

  it('lets jobs in flight finish when closed, and rejects the queued ones', async () => {
    const pool = await OnnxWorkerPool.open({ modelPath: model.modelPath, dim: parity.dim, workers: 1 });
    const rows = 5000;
    const inFlight = pool.run(new Float32Array(rows * parity.dim), rows, parity.dim);
    const queued = pool.run(new Float32Array(rows * parity.dim), rows, parity.dim);

    const outcomes = Promise.allSettled([inFlight, queued]);
    await pool.close();

    const [finished, dropped] = await outcomes;
    expect(finished.status === 'fulfilled' && finished.value.pCtr.length).toBe(rows);
    expect(dropped.status === 'rejected' && (dropped.reason as Error).message).toMatch(/closed/);
    expect(pool.stats().alive).toBe(0);
  });

  it('runs the queued jobs too when closed with drain, and refuses new ones', async () => {
    const pool = await OnnxWorkerPool.open({ modelPath: model.modelPath, dim: parity.dim, workers: 1 });
    const rows = 2000;
    const jobs = [0, 1, 2].map(() => pool.run(new Float32Array(rows * parity.dim), rows, parity.dim));

    const closed = pool.close({ drain: true });
    const refused = pool.run(new Float32Array(parity.dim), 1, parity.dim).catch((e: unknown) => e);
    await closed;

    const results = await Promise.all(jobs);
    results.forEach((r) => expect(r.pCtr).toHaveLength(rows));
    expect(await refused).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/closed/) });
    expect(pool.stats().alive).toBe(0);
  });

  it('warms every worker up', async () => {
    await expect(sut.warmUp(64)).resolves.toBeUndefined();
  });

  it('fails to open with a message naming a missing model file', async () => {
    await expect(
      OnnxWorkerPool.open({ modelPath: join(model.dir, 'absent.onnx'), dim: FEATURE_SPEC.dim, workers: 1 }),
    ).rejects.toThrow(/exited .* before loading: cannot load .*absent\.onnx/);
  });

  it('refuses work once closed', async () => {
    const pool = await OnnxWorkerPool.open({ modelPath: model.modelPath, dim: FEATURE_SPEC.dim, workers: 1 });
    await pool.close();

    await expect(pool.run(new Float32Array(FEATURE_SPEC.dim), 1, FEATURE_SPEC.dim)).rejects.toThrow(/is closed/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
