// Speaks the onnx-worker.js protocol without a model: answers 0.5 for every row, and exits the thread
// (as an out-of-memory or crashing worker would) when a job has exactly 13 rows.
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('exiting-worker.js must be started as a worker thread');
port.on('message', (request) => {
  if (request.type === 'close') return port.close();
  if (request.rows === 13) process.exit(3);
  const half = () => new Float32Array(request.rows).fill(0.5);
  port.postMessage({ type: 'result', id: request.id, outputs: { p_ctr: half(), p_cvr: half() } });
});
port.postMessage({ type: 'ready' });
