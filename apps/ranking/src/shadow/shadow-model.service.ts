import { resolve } from 'node:path';
import { AdfunnelError, type ShadowScoreRecord, type Surface } from '@adfunnel/contracts';
import { FEATURE_SPEC } from '@adfunnel/features';
import {
  OnnxWorkerPool,
  type PoolStats,
  type ResolvedModel,
  rankingOutputsOf,
  servableVersion,
} from '@adfunnel/models';
import { InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { RankingConfig } from '../config.js';
import type { VersionedScores } from '../ranking-model.service.js';
import { RankingModelService } from '../ranking-model.service.js';
import { type ShadowLogCounts, ShadowLogPublisher } from './shadow-log.publisher.js';

export interface ShadowCounts {
  /** Requests scored by the live model while this shadow ran. */
  requests: number;
  /** Left out by RANKING_SHADOW_SAMPLE. */
  sampledOut: number;
  /** Not shadowed because RANKING_SHADOW_MAX_PENDING scorings were already queued or running. */
  droppedBusy: number;
  /** Not shadowed because live requests were waiting for a worker when its turn came: live goes first. */
  droppedLiveBusy: number;
  /** Not shadowed because the live model failed on them. */
  liveFailed: number;
  /** The shadow model failed on them (the error is logged). */
  shadowFailed: number;
  /** Scored by the shadow and handed to the shadow log. */
  scored: number;
}

export interface ShadowStatus {
  active: boolean;
  version: string | null;
  liveVersion: string;
  sample: number;
  startedAt: string | null;
  /** Shadow scorings queued or running now. */
  pending: number;
  counts: ShadowCounts;
  log: ShadowLogCounts;
  pool: PoolStats | null;
}

export interface ShadowContext {
  requestId: string;
  surface: Surface;
  adIds: number[];
}

interface Shadow {
  model: ResolvedModel;
  pool: OnnxWorkerPool;
  sample: number;
  startedAt: Date;
  counts: ShadowCounts;
  /** Scorings admitted and not finished yet. */
  inflight: Set<Promise<void>>;
}

/**
 * A candidate model that scores the same feature rows as the live one, strictly off the answer path:
 * a request admitted to the shadow hands over a copy of its matrix, and the shadow scores it on its
 * own worker threads only after the live scores are back; the answer never waits for it. At most
 * RANKING_SHADOW_MAX_PENDING scorings wait or run, and none starts while live requests wait for a
 * live worker; a request left out either way is counted. Each shadowed request's live and shadow scores go to logging's shadow queue.
 */
@Injectable()
export class ShadowModelService implements OnModuleDestroy {
  private readonly logger = new Logger(ShadowModelService.name);
  private shadow: Shadow | undefined;
  private changes: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectConfig() private readonly config: RankingConfig,
    private readonly live: RankingModelService,
    private readonly log: ShadowLogPublisher,
  ) {}

  /**
   * Loads `version` as the shadow (replacing a running one) after the checks serving makes; refuses
   * the live version, an unknown version, another feature spec, or a Redis the log cannot reach.
   */
  start(version: string, sample = this.config.RANKING_SHADOW_SAMPLE): Promise<ShadowStatus> {
    return this.serialised(async () => {
      const liveVersion = this.live.current().version;
      if (version === liveVersion) {
        throw new AdfunnelError(
          'conflict',
          `${this.config.RANKING_MODEL}@${version} is the live version; shadow another one`,
          'already_current',
        );
      }
      if (this.shadow?.model.version === version) {
        this.shadow.sample = sample;
        return this.status();
      }
      const model = await servableVersion(
        resolve(this.config.MODELS_DIR),
        this.config.RANKING_MODEL,
        version,
        FEATURE_SPEC,
      );
      try {
        await this.log.connect();
      } catch (err) {
        throw new AdfunnelError('unavailable', `shadow not started: ${(err as Error).message}`);
      }
      const pool = await OnnxWorkerPool.open({
        modelPath: model.modelPath,
        dim: model.manifest.featureSpec.dim,
        outputNames: rankingOutputsOf(model.manifest),
        workers: this.config.RANKING_SHADOW_WORKERS,
        label: `shadow ${label(model)}`,
        logger: this.logger,
      });
      try {
        await pool.warmUp();
      } catch (err) {
        await pool.close();
        throw new AdfunnelError(
          'unavailable',
          `shadow ${label(model)} failed its warm-up: ${(err as Error).message}`,
        );
      }
      const old = this.shadow;
      this.shadow = { model, pool, sample, startedAt: new Date(), counts: zeroCounts(), inflight: new Set() };
      if (old) await this.retire(old);
      this.logger.log(`shadowing ${label(model)} beside ${liveVersion} on ${sample * 100}% of requests`);
      return this.status();
    });
  }

  /** Stops the shadow after it finishes the scorings it accepted and their records are handed to the log. */
  stop(): Promise<ShadowStatus> {
    return this.serialised(async () => {
      const old = this.shadow;
      this.shadow = undefined;
      if (!old) return this.status();
      await this.retire(old);
      this.logger.log(`stopped shadowing ${label(old.model)}: ${JSON.stringify(old.counts)}`);
      return { ...this.status(), version: old.model.version, counts: { ...old.counts } };
    });
  }

  status(): ShadowStatus {
    const shadow = this.shadow;
    return {
      active: shadow !== undefined,
      version: shadow?.model.version ?? null,
      liveVersion: this.live.current().version,
      sample: shadow?.sample ?? this.config.RANKING_SHADOW_SAMPLE,
      startedAt: shadow?.startedAt.toISOString() ?? null,
      pending: shadow?.inflight.size ?? 0,
      counts: { ...(shadow?.counts ?? zeroCounts()) },
      log: this.log.stats(),
      pool: shadow?.pool.stats() ?? null,
    };
  }

  /**
   * Runs `scoreLive` (the live model, which takes `features`' buffer) and returns its promise as is.
   * When this request is shadowed, a copy of the matrix is kept first and, once the live scores are
   * back, scored by the shadow. Adds no wait to the live scores and never throws into them.
   */
  alongside(
    context: ShadowContext,
    features: Float32Array,
    rows: number,
    dim: number,
    scoreLive: () => Promise<VersionedScores>,
  ): Promise<VersionedScores> {
    const shadow = this.shadow;
    if (!shadow) return scoreLive();
    const { counts, inflight } = shadow;
    counts.requests += 1;
    if (!sampled(context.requestId, shadow.sample)) {
      counts.sampledOut += 1;
      return scoreLive();
    }
    if (inflight.size >= this.config.RANKING_SHADOW_MAX_PENDING) {
      counts.droppedBusy += 1;
      return scoreLive();
    }
    const copy = features.slice();
    const live = scoreLive();
    const done: Promise<void> = live
      .then(
        (scores) => this.score(shadow, context, copy, rows, dim, scores),
        () => {
          counts.liveFailed += 1;
        },
      )
      .finally(() => inflight.delete(done));
    inflight.add(done);
    return live;
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  private async score(
    shadow: Shadow,
    context: ShadowContext,
    features: Float32Array,
    rows: number,
    dim: number,
    live: VersionedScores,
  ): Promise<void> {
    if ((this.live.status().pool?.queued ?? 0) > 0) {
      shadow.counts.droppedLiveBusy += 1;
      return;
    }
    let scores;
    try {
      scores = await shadow.pool.run(features, rows, dim);
    } catch (err) {
      shadow.counts.shadowFailed += 1;
      if (shadow.counts.shadowFailed % 100 === 1) {
        this.logger.warn(
          `shadow ${label(shadow.model)} failed on ${context.requestId}: ${(err as Error).message}`,
        );
      }
      return;
    }
    shadow.counts.scored += 1;
    const record: ShadowScoreRecord = {
      requestId: context.requestId,
      scoredAt: Date.now(),
      surface: context.surface,
      liveVersion: live.modelVersion,
      shadowVersion: shadow.model.version,
      adIds: context.adIds,
      livePCtr: rounded(live.pCtr),
      livePCvr: rounded(live.pCvr),
      shadowPCtr: rounded(scores.pCtr),
      shadowPCvr: rounded(scores.pCvr),
    };
    this.log.publish(record);
  }

  /** Lets the scorings it admitted finish, then closes its workers and hands their records to the log. */
  private async retire(old: Shadow): Promise<void> {
    await Promise.all(old.inflight);
    await old.pool
      .close({ drain: true })
      .catch((err: unknown) =>
        this.logger.warn(`closing shadow ${label(old.model)}: ${(err as Error).message}`),
      );
    await this.log.flush();
  }

  private serialised<T>(run: () => Promise<T>): Promise<T> {
    const next = this.changes.catch(() => undefined).then(run);
    this.changes = next;
    return next;
  }
}

/** The same request is always in or out of a sample (FNV-1a of its id), so a retry is shadowed alike. */
export function sampled(requestId: string, sample: number): boolean {
  if (sample >= 1) return true;
  if (sample <= 0) return false;
  let hash = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    hash ^= requestId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 0x1_0000_0000 < sample;
}

/** Float32 scores at the 7 significant digits they hold, not as 17-digit doubles in the log. */
function rounded(scores: Float32Array): number[] {
  return Array.from(scores, (p) => Number(p.toPrecision(7)));
}

function zeroCounts(): ShadowCounts {
  return {
    requests: 0,
    sampledOut: 0,
    droppedBusy: 0,
    droppedLiveBusy: 0,
    liveFailed: 0,
    shadowFailed: 0,
    scored: 0,
  };
}

function label(model: ResolvedModel): string {
  return `${model.name}@${model.version}`;
}
