// One ONNX session per worker thread: InferenceSession.run() is synchronous in onnxruntime-node and
// would block the service's event loop (health checks, other requests) for the whole inference.
// Plain JavaScript so the same file runs from src/ (jest) and from dist/ (tsc copies it with allowJs).
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/**
 * @typedef {{ modelPath: string, intraOpNumThreads: number, inputName: string, outputNames: string[] }} WorkerConfig
 * @typedef {{ type: 'score', id: number, features: Float32Array, rows: number, dim: number }} WorkerJob
 * @typedef {WorkerJob | { type: 'close' }} WorkerRequest
 */

const port = parentPort;
if (!port) throw new Error('onnx-worker.js must be started as a worker thread');
const config = /** @type {WorkerConfig} */ (workerData);

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
  });
} catch (err) {
  port.postMessage({ type: 'failed', message: `cannot load ${config.modelPath}: ${describe(err)}` });
}

if (session) {
  const loaded = session;
  const missing = [
    ...(loaded.inputNames.includes(config.inputName) ? [] : [`input "${config.inputName}"`]),
    ...config.outputNames.filter((n) => !loaded.outputNames.includes(n)).map((n) => `output "${n}"`),
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
    port.on('message', (/** @type {WorkerRequest} */ request) => {
      if (request.type === 'close') {
        // Finish the job in hand, then let the thread end on its own: terminating it during a native
        // run aborts the process.
        void inFlight
          .then(() => loaded.release())
          .catch(() => undefined)
          .finally(() => port.close());
        return;
      }
      inFlight = score(loaded, request);
    });
    port.postMessage({ type: 'ready' });
  }
}

/**
 * @param {InferenceSession} loaded
 * @param {WorkerJob} job
 */
async function score(loaded, job) {
  try {
    const input = new Tensor('float32', job.features, [job.rows, job.dim]);
    const results = await loaded.run({ [config.inputName]: input });
    /** @type {Record<string, Float32Array>} */
    const outputs = {};
    /** @type {ArrayBuffer[]} */
    const transfer = [];
    for (const name of config.outputNames) {
      const tensor = results[name];
      if (!tensor || tensor.type !== 'float32' || tensor.data.length !== job.rows) {
        throw new Error(
          `output "${name}" is ${tensor ? `${tensor.type} [${tensor.dims.join(', ')}]` : 'absent'}, expected float32 [${job.rows}]`,
        );
      }
      // A copy owns a plain ArrayBuffer that can be transferred back without cloning.
      const copy = new Float32Array(/** @type {Float32Array} */ (tensor.data));
      outputs[name] = copy;
      transfer.push(copy.buffer);
    }
    port?.postMessage({ type: 'result', id: job.id, outputs }, transfer);
  } catch (err) {
    port?.postMessage({ type: 'error', id: job.id, message: describe(err) });
  }
}
