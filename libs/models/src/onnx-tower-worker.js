// One tower of the two-tower retrieval model (tools/training/train_two_tower.py) in its own worker thread:
// inputs `dense` float32 [N, D] and `tokens` int64 [N, L], output `embedding` float32 [N, dim]. A worker
// rather than the service's thread because onnxruntime-node's run() holds the thread it runs on (a
// catalog's ad tower takes tens of milliseconds), and because jest's VM realm fails onnxruntime's
// typed-array checks on the main thread; one user row costs ~0.05 ms of round trip (README).
// Plain JavaScript so the same file runs from src/ (jest) and from dist/ (tsc copies it with allowJs).
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/**
 * @typedef {{ modelPath: string, intraOpNumThreads: number, denseDim: number, tokenLength: number, dim: number }} TowerConfig
 * @typedef {{ type: 'embed', id: number, rows: number, dense: Float32Array, tokens: Int32Array }} TowerJob
 * @typedef {TowerJob | { type: 'close' }} TowerRequest
 */

const port = parentPort;
if (!port) throw new Error('onnx-tower-worker.js must be started as a worker thread');
const config = /** @type {TowerConfig} */ (workerData);

/** @param {unknown} err */
function describe(err) {
  return err instanceof Error ? err.message : String(err);
}

/** @type {InferenceSession | undefined} */
let session;
try {
  session = await InferenceSession.create(config.modelPath, {
    intraOpNumThreads: config.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // The exported EmbeddingBag loop draws harmless graph-optimizer warnings on every load.
    logSeverityLevel: 3,
  });
} catch (err) {
  port.postMessage({ type: 'failed', message: `cannot load ${config.modelPath}: ${describe(err)}` });
}

if (session) {
  const loaded = session;
  const missing = [
    ...['dense', 'tokens'].filter((n) => !loaded.inputNames.includes(n)).map((n) => `input "${n}"`),
    ...(loaded.outputNames.includes('embedding') ? [] : ['output "embedding"']),
  ];
  if (missing.length > 0) {
    port.postMessage({
      type: 'failed',
      message:
        `${config.modelPath} has no ${missing.join(', ')}; it has inputs [${loaded.inputNames.join(', ')}] ` +
        `and outputs [${loaded.outputNames.join(', ')}]`,
    });
  } else {
    /** @type {Promise<void>} */
    let inFlight = Promise.resolve();
    port.on('message', (/** @type {TowerRequest} */ request) => {
      if (request.type === 'close') {
        // Finish the job in hand, then end: terminating a thread during a native run aborts the process.
        void inFlight
          .then(() => loaded.release())
          .catch(() => undefined)
          .finally(() => port.close());
        return;
      }
      inFlight = inFlight.then(() => embed(loaded, request));
    });
    port.postMessage({ type: 'ready' });
  }
}

/**
 * @param {InferenceSession} loaded
 * @param {TowerJob} job
 */
async function embed(loaded, job) {
  try {
    const tokens = new BigInt64Array(job.tokens.length);
    for (let i = 0; i < tokens.length; i++) tokens[i] = BigInt(job.tokens[i]);
    const results = await loaded.run({
      dense: new Tensor('float32', job.dense, [job.rows, config.denseDim]),
      tokens: new Tensor('int64', tokens, [job.rows, config.tokenLength]),
    });
    const out = results['embedding'];
    if (!out || out.type !== 'float32' || out.data.length !== job.rows * config.dim) {
      throw new Error(
        `output "embedding" is ${out ? `${out.type} [${out.dims.join(', ')}]` : 'absent'}, expected float32 [${job.rows}, ${config.dim}]`,
      );
    }
    const copy = new Float32Array(/** @type {Float32Array} */ (out.data));
    port?.postMessage({ type: 'result', id: job.id, embedding: copy }, [copy.buffer]);
  } catch (err) {
    port?.postMessage({ type: 'error', id: job.id, message: describe(err) });
  }
}
