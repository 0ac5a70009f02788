import { types } from 'node:util';
import { Worker } from 'node:worker_threads';
import { AdfunnelError } from '@adfunnel/contracts';

export interface RankingScores {
  pCtr: Float32Array;
  pCvr: Float32Array;
  /** P(hide | examined): only from a pool opened with `outputNames.pHide` (a model with a hide head). */
  pHide?: Float32Array;
}

/** Structural subset of Nest's Logger, so this library stays free of Nest. */
export interface PoolLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface OnnxWorkerPoolOptions {
  modelPath: string;
  /** Width of one feature row; run() rejects any other. */
  dim: number;
  /** Worker threads, each with its own session. Default 2 (one per core here). */
  workers?: number;
  /** onnxruntime intra-op threads per session. Default 1: parallelism comes from the workers. */
  intraOpNumThreads?: number;
  inputName?: string;
  /** `pHide` only for a model with a hide head (see `rankingOutputsOf`); without it the pool reads two outputs. */
  outputNames?: { pCtr: string; pCvr: string; pHide?: string };
  /** Jobs allowed to wait for a worker before run() rejects with `unavailable`. Default 10,000. */
  maxQueued?: number;
  label?: string;
  logger?: PoolLogger;
  /** How long close() lets a worker finish its job and exit before terminating it. Default 10 s. */
  closeTimeoutMs?: number;
  /** Replaces onnx-worker.js with another script speaking the same protocol (fault-injection tests). */
  workerScript?: URL;
}

export interface RunOptions {
  /**
   * Default true: the features' ArrayBuffer moves to the worker and the caller's array is detached
   * afterwards. False copies it, for callers that still need the matrix.
   */
  transfer?: boolean;
}

export interface CloseOptions {
  /**
   * Default false: queued jobs are rejected. True runs every queued job first (new jobs are still
   * refused), for a hot swap where the old pool must finish what it accepted.
   */
  drain?: boolean;
}

export interface PoolStats {
  workers: number;
  alive: number;
  busy: number;
  queued: number;
  completed: number;
  failed: number;
  restarts: number;
}

interface Job {
  id: number;
  features: Float32Array;
  rows: number;
  dim: number;
  transfer: boolean;
  resolve: (scores: RankingScores) => void;
  reject: (err: Error) => void;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, Float32Array> }
  | { type: 'error'; id: number; message: string };

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  exited: Promise<number>;
  job?: Job;
  failure?: string;
}

const WORKER_URL = new URL('./onnx-worker.js', import.meta.url);

/**
 * Scores feature matrices on N worker threads, each holding one onnxruntime session. Jobs queue (FIFO)
 * while every worker is busy. A worker that dies rejects its job with `unavailable` and is replaced.
 */
export class OnnxWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly options: Required<Omit<OnnxWorkerPoolOptions, 'logger'>> & { logger?: PoolLogger };
  private nextJobId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private completed = 0;
  private failed = 0;
  private restarts = 0;

  private constructor(options: OnnxWorkerPoolOptions) {
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`workers must be a positive integer, got ${workers}`);
    }
    if (!Number.isInteger(options.dim) || options.dim < 1) {
      throw new RangeError(`dim must be a positive integer, got ${options.dim}`);
    }
    this.options = {
      workers,
      intraOpNumThreads: 1,
      inputName: 'features',
      outputNames: { pCtr: 'p_ctr', pCvr: 'p_cvr' },
      maxQueued: 10_000,
      label: options.modelPath,
      closeTimeoutMs: 10_000,
      workerScript: WORKER_URL,
      ...options,
    };
  }

  /** Starts the workers and resolves once every session has loaded; rejects (and cleans up) if one cannot. */
  static async open(options: OnnxWorkerPoolOptions): Promise<OnnxWorkerPool> {
    const pool = new OnnxWorkerPool(options);
    try {
      await Promise.all(Array.from({ length: pool.options.workers }, (_, i) => pool.spawn(i)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    pool.options.logger?.log(
      `loaded ${pool.options.label} in ${pool.options.workers} worker(s), ${pool.options.intraOpNumThreads} intra-op thread(s) each`,
    );
    return pool;
  }

  get label(): string {
    return this.options.label;
  }

  stats(): PoolStats {
    return {
      workers: this.options.workers,
      alive: this.slots.filter((s) => s.ready).length,
      busy: this.slots.filter((s) => s.job).length,
      queued: this.queue.length,
      completed: this.completed,
      failed: this.failed,
      restarts: this.restarts,
    };
  }

  /** Scores `rows` feature rows of width `dim` (row-major). Resolves with one pCTR and one pCVR per row. */
  run(features: Float32Array, rows: number, dim: number, options: RunOptions = {}): Promise<RankingScores> {
    if (this.closed) return Promise.reject(new AdfunnelError('unavailable', `model pool ${this.label} is closed`));
    if (dim !== this.options.dim) {
      return Promise.reject(
        new AdfunnelError('invalid_request', `feature rows have dim ${dim} but model ${this.label} takes ${this.options.dim}`),
      );
    }
    if (!Number.isInteger(rows) || rows < 1 || features.length !== rows * dim) {
      return Promise.reject(
        new AdfunnelError(
          'invalid_request',
          `feature matrix has ${features.length} values, expected rows x dim = ${rows} x ${dim} with rows >= 1`,
        ),
      );
    }
    if (this.queue.length >= this.options.maxQueued) {
      return Promise.reject(
        new AdfunnelError('unavailable', `model pool ${this.label} has ${this.queue.length} jobs waiting; shedding load`),
      );
    }
    return new Promise<RankingScores>((resolve, reject) => {
      this.queue.push({ id: this.nextJobId++, features, rows, dim, transfer: options.transfer ?? true, resolve, reject });
      this.pump();
    });
  }

  /** Runs one batch through every worker so the first real request does not pay for lazy initialisation. */
  async warmUp(rows = 256): Promise<void> {
    const started = performance.now();
    await Promise.all(
      this.slots.map((slot) => this.run(new Float32Array(rows * this.options.dim), rows, this.options.dim).then(() => slot)),
    );
    this.options.logger?.log(`warmed up ${this.label} in ${(performance.now() - started).toFixed(1)} ms`);
  }

  /**
   * Rejects queued jobs (or, with `drain`, runs them first), lets each worker finish the job it holds,
   * release its session and exit. Workers are not terminated mid-inference: onnxruntime-node aborts
   * the whole process when a worker is torn down while a native run is in progress.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      const stopAll = () => {
        const gone = new AdfunnelError('unavailable', `model pool ${this.label} closed`);
        for (const job of this.queue.splice(0)) job.reject(gone);
        return Promise.all([...this.slots].map((slot) => this.stop(slot))).then(() => undefined);
      };
      this.closing = options.drain ? this.idle().then(stopAll) : stopAll();
    }
    return this.closing;
  }

  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.slots.every((s) => !s.job);
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async stop(slot: Slot): Promise<void> {
    slot.worker.postMessage({ type: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.closeTimeoutMs);
    });
    const outcome = await Promise.race([slot.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.options.logger?.warn(
        `onnx worker #${slot.index} for ${this.label} did not exit within ${this.options.closeTimeoutMs} ms; terminating it`,
      );
      await slot.worker.terminate();
    }
  }

  private spawn(index: number): Promise<void> {
    const worker = new Worker(this.options.workerScript, {
      workerData: {
        modelPath: this.options.modelPath,
        intraOpNumThreads: this.options.intraOpNumThreads,
        inputName: this.options.inputName,
        outputNames: Object.values(this.options.outputNames).filter((n) => n !== undefined),
      },
    });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const slot: Slot = { index, worker, ready: false, exited };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        switch (msg.type) {
          case 'ready':
            slot.ready = true;
            resolve();
            this.pump();
            return;
          case 'failed':
            slot.failure = msg.message;
            return;
          case 'result':
          case 'error':
            this.settle(slot, msg);
            return;
        }
      });
      worker.on('error', (err) => {
        slot.failure = err.message;
      });
      worker.on('exit', (code) => {
        const wasReady = slot.ready;
        this.onExit(slot, code);
        if (!wasReady) {
          reject(
            new AdfunnelError(
              'unavailable',
              `onnx worker #${index} for ${this.label} exited (code ${code}) before loading: ${slot.failure ?? 'no reason given'}`,
            ),
          );
        }
      });
    });
  }

  private settle(slot: Slot, msg: Extract<WorkerMessage, { type: 'result' | 'error' }>): void {
    const job = slot.job;
    if (!job || job.id !== msg.id) return;
    slot.job = undefined;
    if (msg.type === 'result') {
      this.completed++;
      const { pCtr, pCvr, pHide } = this.options.outputNames;
      job.resolve({
        pCtr: msg.outputs[pCtr],
        pCvr: msg.outputs[pCvr],
        ...(pHide === undefined ? {} : { pHide: msg.outputs[pHide] }),
      });
    } else {
      this.failed++;
      job.reject(new AdfunnelError('internal', `model ${this.label} failed on ${job.rows} rows: ${msg.message}`));
    }
    this.pump();
    this.notifyIfIdle();
  }

  private onExit(slot: Slot, code: number): void {
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    const reason = this.closed
      ? `model pool ${this.label} closed`
      : `onnx worker #${slot.index} for ${this.label} died (exit code ${code}${slot.failure ? `: ${slot.failure}` : ''})`;
    if (slot.job) {
      this.failed++;
      slot.job.reject(new AdfunnelError('unavailable', `${reason} while scoring ${slot.job.rows} rows`));
      slot.job = undefined;
    }
    if (this.closed) {
      this.rejectQueueIfNoWorkers();
      this.notifyIfIdle();
      return;
    }
    this.notifyIfIdle();
    if (!slot.ready) return;
    this.options.logger?.error(`${reason}; starting a replacement`);
    this.restarts++;
    this.spawn(slot.index).catch((err: Error) => {
      this.options.logger?.error(`replacement worker for ${this.label} failed: ${err.message}`);
      this.rejectQueueIfNoWorkers();
    });
  }

  private rejectQueueIfNoWorkers(): void {
    if (this.slots.length > 0) return;
    const err = new AdfunnelError('unavailable', `model pool ${this.label} has no live workers`);
    for (const job of this.queue.splice(0)) job.reject(err);
    this.notifyIfIdle();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      const features = job.transfer ? ownedCopyIfShared(job.features) : job.features.slice();
      const message = { type: 'score', id: job.id, features, rows: job.rows, dim: job.dim };
      // util.types rather than instanceof: a buffer from another realm (a vm context, jest) still transfers.
      if (types.isSharedArrayBuffer(features.buffer)) slot.worker.postMessage(message);
      else slot.worker.postMessage(message, [features.buffer]);
    }
  }
}

/** A view over part of a larger buffer is copied: transferring would detach the caller's whole buffer. */
function ownedCopyIfShared(features: Float32Array): Float32Array {
  const whole = features.byteOffset === 0 && features.byteLength === features.buffer.byteLength;
  return whole ? features : features.slice();
}
