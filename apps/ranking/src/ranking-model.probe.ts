import { type HealthProbe, RegisterHealthProbe } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { RankingModelService } from './ranking-model.service.js';

/** Up while a model is loaded and at least one inference worker is alive. */
@Injectable()
@RegisterHealthProbe()
export class RankingModelProbe implements HealthProbe {
  readonly name = 'model';

  constructor(private readonly model: RankingModelService) {}

  check(): Promise<Record<string, unknown>> {
    const { model, pool } = this.model.status();
    if (!pool)
      return Promise.reject(new Error(`ranking model ${model.name}@${model.version} is not loaded yet`));
    if (pool.alive === 0) {
      return Promise.reject(
        new Error(`ranking model ${model.name}@${model.version} has no live inference workers`),
      );
    }
    return Promise.resolve({
      name: model.name,
      version: model.version,
      featureSpec: model.manifest.featureSpec.name,
      featureFingerprint: model.manifest.featureSpec.fingerprint,
      featureDim: model.manifest.featureSpec.dim,
      workers: pool.workers,
      workersAlive: pool.alive,
      busy: pool.busy,
      queued: pool.queued,
      completed: pool.completed,
      failed: pool.failed,
      restarts: pool.restarts,
    });
  }
}
