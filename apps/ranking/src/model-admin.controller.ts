import { AdminTokenGuard } from '@adfunnel/platform';
import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { type ReloadOutcome, RankingModelService } from './ranking-model.service.js';

export interface ServedModelView {
  name: string;
  version: string;
  dir: string;
  featureFingerprint: string;
  workers: number | undefined;
  workersAlive: number | undefined;
  /** Old pools still finishing the jobs they accepted before a swap. */
  retiring: number;
}

/**
 * Operator endpoints on the service's own (internal) HTTP port: deploy a new model version by
 * writing `MODELS_DIR/<model>/current` and calling POST /admin/model/reload (the file is also
 * watched, see RANKING_MODEL_WATCH_MS). Both need `Authorization: Bearer <ADMIN_TOKEN>`.
 */
@Controller('admin/model')
@UseGuards(AdminTokenGuard)
export class ModelAdminController {
  constructor(private readonly model: RankingModelService) {}

  @Get()
  show(): ServedModelView {
    const { model, pool, retiring } = this.model.status();
    return {
      name: model.name,
      version: model.version,
      dir: model.dir,
      featureFingerprint: model.manifest.featureSpec.fingerprint,
      workers: pool?.workers,
      workersAlive: pool?.alive,
      retiring,
    };
  }

  /** 200 with the outcome; 400 naming the problem when the version `current` names cannot be served. */
  @Post('reload')
  @HttpCode(200)
  reload(): Promise<ReloadOutcome> {
    return this.model.reload();
  }
}
