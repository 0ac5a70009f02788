import { resolve } from 'node:path';
import { AdfunnelError } from '@adfunnel/contracts';
import { FEATURE_SPEC } from '@adfunnel/features';
import {
  type PointerChange,
  type RolloutPointers,
  promoteVersion,
  readRolloutPointers,
  restorePointers,
  rollbackVersion,
} from '@adfunnel/models';
import { InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { RankingConfig } from '../config.js';
import { type ReloadOutcome, RankingModelService } from '../ranking-model.service.js';
import { ShadowModelService } from './shadow-model.service.js';

export interface RolloutOutcome extends PointerChange {
  reload: ReloadOutcome;
  /** Whether a shadow of the promoted version was stopped (it now serves live). */
  shadowStopped: boolean;
}

/**
 * Promote and rollback: moves `current` (and `previous`) the way libs/models does for every writer,
 * then reloads at once rather than waiting for the watcher. A change the service then fails to load
 * puts both pointers back, so the files never name a version other than the one serving.
 * One change at a time.
 */
@Injectable()
export class ModelRolloutService {
  private readonly logger = new Logger(ModelRolloutService.name);
  private changes: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectConfig() private readonly config: RankingConfig,
    private readonly model: RankingModelService,
    private readonly shadow: ShadowModelService,
  ) {}

  pointers(): Promise<RolloutPointers> {
    return readRolloutPointers(this.modelsRoot(), this.config.RANKING_MODEL);
  }

  /** `version`, or the running shadow's when none is named. */
  promote(version?: string): Promise<RolloutOutcome> {
    return this.serialised(async () => {
      const target = version ?? this.shadow.status().version;
      if (target === null) {
        throw new AdfunnelError(
          'invalid_request',
          'promote needs a version: send {"version": "<version>"} or start a shadow first',
        );
      }
      return this.apply(() =>
        promoteVersion(this.modelsRoot(), this.config.RANKING_MODEL, target, FEATURE_SPEC),
      );
    });
  }

  rollback(): Promise<RolloutOutcome> {
    return this.serialised(() =>
      this.apply(() => rollbackVersion(this.modelsRoot(), this.config.RANKING_MODEL, FEATURE_SPEC)),
    );
  }

  private async apply(change: () => Promise<PointerChange>): Promise<RolloutOutcome> {
    const before = await this.pointers();
    const moved = await change();
    let reload: ReloadOutcome;
    try {
      reload = await this.model.reload();
      if (reload.version !== moved.version) {
        throw new Error(`current named ${moved.version} but the service loaded ${reload.version}`);
      }
    } catch (err) {
      await restorePointers(this.modelsRoot(), this.config.RANKING_MODEL, before);
      const message = `${moved.action} to ${moved.version} undone, pointers restored: ${(err as Error).message}`;
      this.logger.error(message);
      throw new AdfunnelError('unprocessable', message);
    }
    let shadowStopped = false;
    if (this.shadow.status().version === moved.version) {
      await this.shadow.stop();
      shadowStopped = true;
    }
    this.logger.log(
      `${moved.action}: ${this.config.RANKING_MODEL}@${moved.version} serving (was ${moved.from})`,
    );
    return { ...moved, reload, shadowStopped };
  }

  private modelsRoot(): string {
    return resolve(this.config.MODELS_DIR);
  }

  private serialised<T>(run: () => Promise<T>): Promise<T> {
    const next = this.changes.catch(() => undefined).then(run);
    this.changes = next;
    return next;
  }
}
