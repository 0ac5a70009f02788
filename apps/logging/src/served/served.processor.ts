import {
  JobNames,
  Queues,
  SERVED_OUTCOME_LUA,
  SERVED_OUTCOME_TAKEN_TTL_MS,
  ServedOutcome,
  type ServedRecord,
  type ServedRecordJob,
  ServedRecordJobSchema,
} from '@adfunnel/contracts';
import { EventStore, type ServedAdEntity } from '@adfunnel/event-store';
import { InjectConfig, formatZodError } from '@adfunnel/platform';
import { RedisScript } from '@adfunnel/redis';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { ActivityRecorder } from '../activity/activity-recorder.service.js';
import type { LoggingConfig } from '../config.js';

const takeScript = new RedisScript('served-outcome-take', SERVED_OUTCOME_LUA.take);

/**
 * Worker for `Queues.served`, which the gateway fills before it answers: one served_ads row per ad
 * shown, with the features ranking used and the request's query, context item and the user activity
 * it was served with; then each request's query goes into the user's activity, once per request.
 *
 * A job is stored only when its outcome in Redis says its answers carried the ads (`ServedOutcome`):
 * a withheld job (Redis confirmed it too late, the answers went out without ads) is completed with
 * nothing stored. A job that does not hold valid records is failed for good (kept in the failed set
 * for inspection), never stored.
 */
@Injectable()
export class ServedProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger(ServedProcessor.name);

  constructor(
    @InjectConfig() private readonly config: LoggingConfig,
    @InjectQueue(Queues.served) private readonly queue: Queue<ServedRecordJob>,
    private readonly store: EventStore,
    private readonly activity: ActivityRecorder,
  ) {}

  /** Registered here rather than with @Process so the concurrency comes from config. */
  onApplicationBootstrap(): void {
    this.queue
      .process(JobNames.persistServed, this.config.LOGGING_CONCURRENCY, (job: Job<ServedRecordJob>) =>
        this.handle(job),
      )
      .catch((error: unknown) => this.logger.error(`served worker stopped: ${(error as Error).message}`));
  }

  async persist(records: readonly ServedRecord[]): Promise<number> {
    const stored = await this.store.insertServedAds(
      records.flatMap((record) => record.ads.map((ad) => toRow(record, ad))),
    );
    await this.activity.served(records);
    return stored;
  }

  private async handle(job: Job<ServedRecordJob>): Promise<void> {
    const parsed = ServedRecordJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const reason = `served job ${String(job.id)} rejected, nothing stored: ${formatZodError(parsed.error)}`;
      this.logger.error(reason);
      await job.discard();
      throw new Error(reason);
    }
    const { records, outcomeKey } = parsed.data;
    const ads = records.reduce((n, r) => n + r.ads.length, 0);
    if (outcomeKey !== undefined) {
      const outcome = await takeScript.run(this.queue.client, [outcomeKey], [SERVED_OUTCOME_TAKEN_TTL_MS]);
      if (outcome === ServedOutcome.withheld) {
        this.logger.log(
          `served batch ${String(job.id)} withheld: its ${records.length} answers went out without ads; nothing stored`,
        );
        return;
      }
    }
    try {
      const stored = await this.persist(records);
      this.logger.debug(
        `served batch ${String(job.id)}: ${records.length} requests, ${stored} of ${ads} ads stored (${ads - stored} already there)`,
      );
    } catch (error) {
      this.logger.warn(
        `served batch ${String(job.id)} (${records.length} requests, first ${records[0]?.requestId}) failed on attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}: ${(error as Error).message}`,
      );
      throw error;
    }
  }
}

function toRow(record: ServedRecord, ad: ServedRecord['ads'][number]): ServedAdEntity {
  return {
    id: `${record.requestId}:${ad.slot}`,
    requestId: record.requestId,
    servedAt: record.servedAt,
    userId: record.userId,
    surface: record.surface,
    country: record.country,
    device: record.device,
    slot: ad.slot,
    adId: ad.adId,
    campaignId: ad.campaignId,
    advertiserId: ad.advertiserId,
    bidType: ad.bidType,
    bid: ad.bid,
    price: ad.price,
    pCtr: ad.pCtr,
    pCtrRaw: ad.pCtrRaw ?? null,
    pCvr: ad.pCvr,
    pHide: ad.pHide ?? null,
    modelVersion: record.modelVersion,
    degraded: record.degraded,
    features: ad.features,
    featureDim: ad.features === null ? null : record.featureDim,
    query: record.query ?? null,
    contextAdId: record.contextAdId ?? null,
    userActivity: record.userActivity ?? null,
    experimentArms: record.experimentArms ?? null,
  };
}
