import { resolve } from 'node:path';
import { AdfunnelError } from '@adfunnel/contracts';
import { FEATURE_SPEC } from '@adfunnel/features';
import {
  OnnxWorkerPool,
  type PoolStats,
  type RankingScores,
  type ResolvedModel,
  assertFeatureSpec,
  resolveCurrentModel,
} from '@adfunnel/models';
import { InjectConfig } from '@adfunnel/platform';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { RankingConfig } from './config.js';

/** The model version this process serves, resolved and checked while Nest builds the module graph. */
export const SERVED_MODEL = Symbol('SERVED_MODEL');

/**
 * The served ranking model, loaded into worker threads and warmed up before the service accepts
 * requests. Any failure stops startup (runService logs it and exits 1).
 */
@Injectable()
export class RankingModelService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RankingModelService.name);
  private pool: OnnxWorkerPool | undefined;

  constructor(
    @Inject(SERVED_MODEL) private readonly model: ResolvedModel,
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
    const { model } = this;
    const label = `${model.name}@${model.version}`;
    this.pool = await OnnxWorkerPool.open({
      modelPath: model.modelPath,
      dim: model.manifest.featureSpec.dim,
      workers: this.config.RANKING_WORKERS,
      label,
      logger: this.logger,
    });
    await this.pool.warmUp();
    const ctr = model.manifest.metrics['ctr'];
    this.logger.log(
      `serving ${label} from ${model.dir} (feature spec fp=${model.manifest.featureSpec.fingerprint}` +
        (ctr ? `, validation ctr auc ${ctr.auc.toFixed(4)} logloss ${ctr.logloss.toFixed(5)})` : ')'),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool?.close();
  }

  current(): ResolvedModel {
    return this.model;
  }

  /** Scores a row-major feature matrix; the matrix is transferred to a worker (detached afterwards). */
  score(features: Float32Array, rows: number, dim: number): Promise<RankingScores> {
    if (!this.pool) return Promise.reject(new AdfunnelError('not_ready', 'ranking model is not loaded yet'));
    return this.pool.run(features, rows, dim);
  }

  /** The pool is undefined until the workers have loaded the model. */
  status(): { model: ResolvedModel; pool: PoolStats | undefined } {
    return { model: this.model, pool: this.pool?.stats() };
  }
}
