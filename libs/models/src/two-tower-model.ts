import { Worker } from 'node:worker_threads';
import { AdfunnelError } from '@adfunnel/contracts';
import { TWO_TOWER_SPEC, type TowerInputs, type TowerSpec, type TwoTowerSpec } from '@adfunnel/features';
import type { PoolLogger } from './onnx-worker-pool.js';
import {
  type ResolvedTwoTowerModel,
  type TowerName,
  type TwoTowerManifest,
  assertTwoTowerSpec,
} from './two-tower-manifest.js';

const WORKER_URL = new URL('./onnx-tower-worker.js', import.meta.url);

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; embedding: Float32Array }
  | { type: 'error'; id: number; message: string };

interface Pending {
  rows: number;
  resolve: (embedding: Float32Array) => void;
  reject: (err: Error) => void;
}

/**
 * One ONNX tower in a worker thread of its own. Jobs run one after another in the worker (FIFO); the
 * caller's thread only copies inputs in and the unit vectors out.
 */
export class OnnxTower {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;
  private failure: string | undefined;

  private constructor(
    readonly label: string,
    private readonly spec: TowerSpec,
    readonly dim: number,
    private readonly worker: Worker,
    private readonly exited: Promise<number>,
  ) {}

  static async open(options: {
    modelPath: string;
    spec: TowerSpec;
    dim: number;
    label: string;
    intraOpNumThreads?: number;
  }): Promise<OnnxTower> {
    const worker = new Worker(WORKER_URL, {
      workerData: {
        modelPath: options.modelPath,
        intraOpNumThreads: options.intraOpNumThreads ?? 1,
        denseDim: options.spec.denseDim,
        tokenLength: options.spec.tokenLength,
        dim: options.dim,
      },
    });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const tower = new OnnxTower(options.label, options.spec, options.dim, worker, exited);
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'failed') tower.failure = msg.message;
        else tower.settle(msg);
      });
      worker.on('error', (err) => {
        tower.failure = err.message;
      });
      worker.on('exit', (code) => {
        tower.onExit(code);
        reject(
          new AdfunnelError(
            'unavailable',
            `${options.label} worker exited (code ${code}) before loading: ${tower.failure ?? 'no reason given'}`,
          ),
        );
      });
    });
    return tower;
  }

  /** The unit vectors of `inputs.rows` rows, row-major [rows, dim]. The inputs are copied, never moved. */
  embed(inputs: TowerInputs): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new AdfunnelError('unavailable', `${this.label} is closed`));
    const { rows, dense, tokens } = inputs;
    if (!Number.isInteger(rows) || rows < 1) {
      return Promise.reject(new RangeError(`${this.label}: rows must be a positive integer, got ${rows}`));
    }
    if (dense.length !== rows * this.spec.denseDim || tokens.length !== rows * this.spec.tokenLength) {
      return Promise.reject(
        new RangeError(
          `${this.label}: ${rows} rows need dense ${rows} x ${this.spec.denseDim} and tokens ${rows} x ` +
            `${this.spec.tokenLength}, got ${dense.length} and ${tokens.length} values`,
        ),
      );
    }
    const id = this.nextId++;
    const job = { type: 'embed', id, rows, dense: dense.slice(), tokens: tokens.slice() };
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { rows, resolve, reject });
      this.worker.postMessage(job, [job.dense.buffer, job.tokens.buffer]);
    });
  }

  /** Lets the worker finish the jobs it holds, release its session and exit. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.worker.postMessage({ type: 'close' });
      this.closing = this.exited.then(() => undefined);
    }
    return this.closing;
  }

  private settle(msg: Extract<WorkerMessage, { type: 'result' | 'error' }>): void {
    const job = this.pending.get(msg.id);
    if (job === undefined) return;
    this.pending.delete(msg.id);
    if (msg.type === 'result') job.resolve(msg.embedding);
    else job.reject(new AdfunnelError('internal', `${this.label} failed on ${job.rows} rows: ${msg.message}`));
  }

  private onExit(code: number): void {
    this.closed = true;
    const reason = new AdfunnelError(
      'unavailable',
      `${this.label} worker exited (code ${code})${this.failure ? `: ${this.failure}` : ''}`,
    );
    for (const job of this.pending.values()) job.reject(reason);
    this.pending.clear();
  }
}

export interface TwoTowerModelOptions {
  /** The input spec this build encodes with; TWO_TOWER_SPEC unless a test says otherwise. */
  spec?: TwoTowerSpec;
  logger?: PoolLogger;
}

/**
 * Both towers of one retrieval model version, loaded together and closed together, so a caller that
 * holds one TwoTowerModel can never mix a user vector of one version with ad vectors of another.
 */
export class TwoTowerModel {
  private constructor(
    readonly resolved: ResolvedTwoTowerModel,
    readonly spec: TwoTowerSpec,
    private readonly user: OnnxTower,
    private readonly ad: OnnxTower,
  ) {}

  get name(): string {
    return this.resolved.name;
  }

  get version(): string {
    return this.resolved.version;
  }

  get dim(): number {
    return this.resolved.manifest.dim;
  }

  get manifest(): TwoTowerManifest {
    return this.resolved.manifest;
  }

  /** Checks the manifest against the spec (FeatureSpecMismatchError), then loads both towers. */
  static async open(resolved: ResolvedTwoTowerModel, options: TwoTowerModelOptions = {}): Promise<TwoTowerModel> {
    const spec = options.spec ?? TWO_TOWER_SPEC;
    assertTwoTowerSpec(resolved.manifest, spec);
    const dim = resolved.manifest.dim;
    const label = (tower: TowerName) => `${resolved.name}@${resolved.version} ${tower} tower`;
    const [user, ad] = await Promise.allSettled([
      OnnxTower.open({ modelPath: resolved.userTowerPath, spec: spec.user, dim, label: label('user') }),
      OnnxTower.open({ modelPath: resolved.adTowerPath, spec: spec.ad, dim, label: label('ad') }),
    ]);
    if (user.status === 'rejected' || ad.status === 'rejected') {
      await Promise.all([user, ad].map((t) => (t.status === 'fulfilled' ? t.value.close() : Promise.resolve())));
      throw user.status === 'rejected' ? user.reason : (ad as PromiseRejectedResult).reason;
    }
    options.logger?.log(`loaded two-tower ${resolved.name}@${resolved.version} (dim ${dim})`);
    return new TwoTowerModel(resolved, spec, user.value, ad.value);
  }

  /** User tower: one unit vector per request row. */
  embedUsers(inputs: TowerInputs): Promise<Float32Array> {
    return this.user.embed(inputs);
  }

  /**
   * Ad tower over many ads in batches of `batchRows` (each one job in the ad tower's worker), so a
   * catalog's embedding neither builds one huge tensor nor keeps user requests waiting behind it.
   */
  async embedAds(inputs: TowerInputs, batchRows = 512): Promise<Float32Array> {
    const { rows, dense, tokens } = inputs;
    const out = new Float32Array(rows * this.dim);
    const d = this.spec.ad.denseDim;
    const l = this.spec.ad.tokenLength;
    for (let start = 0; start < rows; start += batchRows) {
      const n = Math.min(batchRows, rows - start);
      const vectors = await this.ad.embed({
        rows: n,
        dense: dense.subarray(start * d, (start + n) * d),
        tokens: tokens.subarray(start * l, (start + n) * l),
      });
      out.set(vectors, start * this.dim);
    }
    return out;
  }

  close(): Promise<void> {
    return Promise.all([this.user.close(), this.ad.close()]).then(() => undefined);
  }
}
