import { JobNames, Queues, type ShadowScoreJob, ShadowScoreJobSchema } from '@adfunnel/contracts';
import { EventStore, type ShadowScoreEntity } from '@adfunnel/event-store';
import { InjectConfig, formatZodError } from '@adfunnel/platform';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import type { LoggingConfig } from '../config.js';

/**
 * Worker for `Queues.shadow`, which ranking fills while a shadow model runs: one shadow_scores row
 * per shadowed request. A job that does not hold valid records is failed for good, never stored.
 */
@Injectable()
export class ShadowProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger(ShadowProcessor.name);

  constructor(
    @InjectConfig() private readonly config: LoggingConfig,
    @InjectQueue(Queues.shadow) private readonly queue: Queue<ShadowScoreJob>,
    private readonly store: EventStore,
  ) {}

  onApplicationBootstrap(): void {
    this.queue
      .process(JobNames.persistShadow, this.config.LOGGING_CONCURRENCY, (job: Job<ShadowScoreJob>) =>
        this.handle(job),
      )
      .catch((error: unknown) => this.logger.error(`shadow worker stopped: ${(error as Error).message}`));
  }

  private async handle(job: Job<ShadowScoreJob>): Promise<void> {
    const parsed = ShadowScoreJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const reason = `shadow job ${String(job.id)} rejected, nothing stored: ${formatZodError(parsed.error)}`;
      this.logger.error(reason);
      await job.discard();
      throw new Error(reason);
    }
    const rows: ShadowScoreEntity[] = parsed.data.records.map((r) => ({
      id: `${r.requestId}:${r.shadowVersion}`,
      requestId: r.requestId,
      scoredAt: r.scoredAt,
      surface: r.surface,
      liveVersion: r.liveVersion,
      shadowVersion: r.shadowVersion,
      adIds: r.adIds,
      livePCtr: r.livePCtr,
      livePCvr: r.livePCvr,
      shadowPCtr: r.shadowPCtr,
      shadowPCvr: r.shadowPCvr,
    }));
    const stored = await this.store.insertShadowScores(rows);
    this.logger.debug(`shadow batch ${String(job.id)}: ${stored} of ${rows.length} requests stored`);
  }
}
