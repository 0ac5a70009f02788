import { join, resolve } from 'node:path';
import { AdfunnelError } from '@adfunnel/contracts';
import { FEATURE_SPEC } from '@adfunnel/features';
import {
  CurrentPointerWatcher,
  OnnxWorkerPool,
  type PoolStats,
  type RankingScores,
  type ResolvedModel,
  assertFeatureSpec,
  rankingOutputsOf,
  resolveCurrentModel,
} from '@adfunnel/models';
import { InjectConfig } from '@adfunnel/platform';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { RankingConfig } from './config.js';

/** The model version this process serves first, resolved and checked while Nest builds the module graph. */
export const SERVED_MODEL = Symbol('SERVED_MODEL');

/** Scores and the version of the model that produced them (a reload may swap models between calls). */
export interface VersionedScores extends RankingScores {
  modelVersion: string;
}

export interface ReloadOutcome {
  outcome: 'reloaded' | 'unchanged';
  previousVersion: string;
  version: string;
  /** Load, feature-spec check, warm-up and swap. */
  ms: number;
}

interface Served {
  model: ResolvedModel;
  pool: OnnxWorkerPool;
}

/**
 * The served ranking model, loaded into worker threads and warmed up before the service accepts
 * requests (any failure stops startup), and swapped without downtime when `current` names a new
 * version: the new version is checked against this build's feature spec, loaded into a new worker
 * pool and warmed up while the old one serves; then one assignment swaps them and the old pool
 * finishes the jobs it accepted and exits. A version that fails any step is refused and the old one
 * keeps serving. A new pool (new worker threads) rather than new sessions in the old workers, because
 * onnxruntime-node leaks memory when sessions are created and released in place (onnxruntime issue
 * 25325); the reload memory figures are in tools/loop/README.md.
 */
@Injectable()
export class RankingModelService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RankingModelService.name);
  private served: Served | undefined;
  private reloads: Promise<unknown> = Promise.resolve();
  private readonly retiring = new Set<Promise<void>>();
  private watcher: CurrentPointerWatcher | undefined;

  constructor(
    @Inject(SERVED_MODEL) private readonly initial: ResolvedModel,
    @InjectConfig() private readonly config: RankingConfig,
  ) {}

  /**
   * MODELS_DIR/RANKING_MODEL/current, refused unless trained on this build's FEATURE_SPEC. Runs as a
   * provider factory, so a missing or stale model fails startup before the database or the bus is touched.
   */
  static async resolve(config: RankingConfig): Promise<ResolvedModel> {
    const model = await resolveCurrentModel(resolve(config.MODELS_DIR), config.RANKING_MODEL);
    assertFeatureSpec(model.manifest, FEATURE_SPEC);
    return model;
  }

  async onModuleInit(): Promise<void> {
    this.served = await this.load(this.initial);
    const ctr = this.initial.manifest.metrics['ctr'];
    this.logger.log(
      `serving ${label(this.initial)} from ${this.initial.dir} (feature spec fp=${this.initial.manifest.featureSpec.fingerprint}` +
        (ctr
          ? `, validation ctr auc ${ctr.auc?.toFixed(4) ?? 'n/a'} logloss ${ctr.logloss.toFixed(5)})`
          : ')'),
    );
    if (this.config.RANKING_MODEL_WATCH_MS > 0) {
      this.watcher = new CurrentPointerWatcher({
        modelRoot: join(resolve(this.config.MODELS_DIR), this.config.RANKING_MODEL),
        initialVersion: this.initial.version,
        pollMs: this.config.RANKING_MODEL_WATCH_MS,
        onChange: async (version) => {
          this.logger.log(`current now names ${this.config.RANKING_MODEL}@${version}; reloading`);
          await this.reload();
        },
        onError: (err) => this.logger.error(err.message),
      });
      this.watcher.start();
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.watcher?.stop();
    await this.reloads.catch(() => undefined);
    const served = this.served;
    this.served = undefined;
    await Promise.all([served?.pool.close({ drain: true }), ...this.retiring]);
  }

  current(): ResolvedModel {
    return this.served?.model ?? this.initial;
  }

  /** Scores a row-major feature matrix; the matrix is transferred to a worker (detached afterwards). */
  async score(features: Float32Array, rows: number, dim: number): Promise<VersionedScores> {
    const served = this.served;
    if (!served) throw new AdfunnelError('not_ready', 'ranking model is not loaded yet');
    const scores = await served.pool.run(features, rows, dim);
    return { ...scores, modelVersion: served.model.version };
  }

  /**
   * Serves the version `current` names now, if it differs from the served one. Reloads run one at a
   * time. Rejects with `invalid_request` naming what is wrong when the new version cannot be served;
   * the old version keeps serving.
   */
  reload(): Promise<ReloadOutcome> {
    const next = this.reloads.catch(() => undefined).then(() => this.swap());
    this.reloads = next;
    return next;
  }

  /** The pool is undefined until the workers have loaded the model. */
  status(): { model: ResolvedModel; pool: PoolStats | undefined; retiring: number } {
    return { model: this.current(), pool: this.served?.pool.stats(), retiring: this.retiring.size };
  }

  private async swap(): Promise<ReloadOutcome> {
    const started = performance.now();
    const old = this.served;
    if (!old) throw new AdfunnelError('not_ready', 'ranking model is not loaded yet');
    const previousVersion = old.model.version;
    let model: ResolvedModel;
    let pool: OnnxWorkerPool;
    try {
      model = await RankingModelService.resolve(this.config);
      if (model.version === previousVersion) {
        return { outcome: 'unchanged', previousVersion, version: model.version, ms: elapsed(started) };
      }
      pool = (await this.load(model)).pool;
    } catch (err) {
      const message = `refused the new ranking model: ${(err as Error).message}; still serving ${label(old.model)}`;
      this.logger.error(message);
      throw new AdfunnelError('invalid_request', message);
    }
    this.served = { model, pool };
    const retired = old.pool
      .close({ drain: true })
      .catch((err: unknown) => this.logger.warn(`closing ${label(old.model)}: ${(err as Error).message}`));
    this.retiring.add(retired);
    void retired.finally(() => this.retiring.delete(retired));
    const ms = elapsed(started);
    this.logger.log(`serving ${label(model)} (was ${previousVersion}), swapped in ${ms} ms`);
    return { outcome: 'reloaded', previousVersion, version: model.version, ms };
  }

  private async load(model: ResolvedModel): Promise<Served> {
    const pool = await OnnxWorkerPool.open({
      modelPath: model.modelPath,
      dim: model.manifest.featureSpec.dim,
      outputNames: rankingOutputsOf(model.manifest),
      workers: this.config.RANKING_WORKERS,
      label: label(model),
      logger: this.logger,
    });
    try {
      await pool.warmUp();
    } catch (err) {
      await pool.close();
      throw err;
    }
    return { model, pool };
  }
}

function label(model: ResolvedModel): string {
  return `${model.name}@${model.version}`;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
