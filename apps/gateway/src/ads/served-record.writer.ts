import { randomUUID } from 'node:crypto';
import { type CatalogAd, CatalogSnapshotService } from '@adfunnel/catalog';
import {
  AdfunnelError,
  type AdRequest,
  type Degradation,
  JobNames,
  persistJobOptions,
  type ServedAd,
  type ServedRecord,
} from '@adfunnel/contracts';
import {
  FEATURE_SPEC,
  buildFeatureMatrix,
  featureRequestOf,
  featureSpecFingerprint,
} from '@adfunnel/features';
import { InjectConfig } from '@adfunnel/platform';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config.js';
import type { FunnelTrace } from './funnel-trace.js';
import { SERVED_QUEUE, type ServedQueue } from './served-queue.js';

/** A job's worth of records at most; more wait for the next add. */
const MAX_RECORDS_PER_JOB = 200;

interface PendingRecord {
  record: ServedRecord;
  /** The first outcome wins (the add, or the request's timeout); reports whether it was this one. */
  settle(durable: boolean): boolean;
}

/**
 * The served-ad record's durable hand-off: the gateway adds the bull job logging's ServedProcessor
 * consumes (`Queues.served`) to Redis itself, and an answer carries its ads only once its record is
 * there, so neither an outage of logging nor a crash of the gateway after the answer loses it.
 *
 * Records that arrive while an add is in flight go out together in the next one (group commit, no
 * timer): an idle gateway adds at once, a busy one makes fewer, larger jobs. A record not in Redis
 * within SERVED_RECORD_TIMEOUT_MS, or with Redis unreachable, is reported not durable.
 *
 * It also claims each request id (SET NX, for the tracking tokens' lifetime) before the funnel runs:
 * served rows and tracking events are keyed by the request id, so a second request under the same
 * id would lose its rows to the first's.
 */
@Injectable()
export class ServedRecordWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ServedRecordWriter.name);
  private readonly redis: Redis;
  private readonly featureSpec = featureSpecFingerprint();
  private waiting: PendingRecord[] = [];
  private adding: Promise<void> | undefined;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    @InjectConfig() private readonly config: GatewayConfig,
    @Inject(SERVED_QUEUE) private readonly queue: ServedQueue,
  ) {
    this.redis = queue.client;
    this.redis.on('error', (err: Error) => this.logger.debug(`redis: ${err.message}`));
  }

  async onModuleInit(): Promise<void> {
    try {
      // bull may have started the connection already (its constructor touches the client).
      if (this.redis.status === 'wait') await this.redis.connect();
      else if (this.redis.status !== 'ready') await readyOrError(this.redis);
    } catch (err) {
      // ioredis keeps reconnecting; until then answers carry no ads and /health reports Redis down.
      this.logger.warn(`Redis not reachable at start-up: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.adding;
    await this.queue.close().catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /**
   * Claims `requestId` before the funnel runs: true once claimed. A request id already claimed is
   * refused (409). False when Redis does not answer: the id's uniqueness is unknown and no record
   * could be written either, so the caller serves no ads (and reserves no budget for them).
   */
  async claim(requestId: string): Promise<boolean> {
    let claimed: string | null;
    try {
      claimed = await this.redis.set(
        `${this.config.LOGGING_QUEUE_PREFIX}:served-request-ids:${requestId}`,
        '1',
        'PX',
        this.config.TRACKING_TTL_MS,
        'NX',
      );
    } catch (err) {
      this.logger.warn({
        msg: 'request id not claimed: Redis did not answer',
        requestId,
        error: (err as Error).message,
      });
      return false;
    }
    if (claimed === null) {
      throw new AdfunnelError(
        'conflict',
        `x-request-id "${requestId}" was already used by another request; send a new id for each request`,
        'duplicate_request_id',
      );
    }
    return true;
  }

  /** Resolves true once the record is in Redis (or there is nothing to record), false if it is not. */
  async write(
    request: AdRequest,
    trace: FunnelTrace,
    ads: readonly ServedAd[],
    degraded: Degradation[],
  ): Promise<boolean> {
    if (ads.length === 0) return true;
    const record = this.toRecord(request, trace, ads, degraded);
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (!pending.settle(false)) return;
        this.waiting = this.waiting.filter((p) => p !== pending);
        this.logger.warn({
          msg: `served record not in Redis within ${this.config.SERVED_RECORD_TIMEOUT_MS} ms; answering without ads`,
          requestId: trace.requestId,
        });
      }, this.config.SERVED_RECORD_TIMEOUT_MS);
      const pending: PendingRecord = {
        record,
        settle: (durable) => {
          if (settled) return false;
          settled = true;
          clearTimeout(timer);
          resolve(durable);
          return true;
        },
      };
      this.waiting.push(pending);
      this.adding ??= this.addWaiting().finally(() => (this.adding = undefined));
    });
  }

  private async addWaiting(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_RECORDS_PER_JOB);
      const records = batch.map((p) => p.record);
      const jobId = `served:${records[0].requestId}:${randomUUID().slice(0, 8)}`;
      let durable = false;
      try {
        if (this.redis.status !== 'ready') throw new Error(`not connected to Redis (${this.redis.status})`);
        await this.queue.add(JobNames.persistServed, { records }, persistJobOptions(jobId));
        durable = true;
      } catch (err) {
        this.logger.warn({
          msg: 'served records not written to Redis; their answers carry no ads',
          records: records.length,
          requestIds: records.map((r) => r.requestId).slice(0, 20),
          error: (err as Error).message,
        });
      }
      const late = batch.filter((p) => !p.settle(durable)).length;
      if (durable && late > 0) {
        this.logger.warn({
          msg: 'served records reached Redis after their answers went out without ads',
          jobId,
          records: late,
        });
      }
    }
  }

  private toRecord(
    request: AdRequest,
    trace: FunnelTrace,
    ads: readonly ServedAd[],
    degraded: Degradation[],
  ): ServedRecord {
    const { scores, auction } = trace;
    const rows = this.featureRows(request, trace, ads);
    const winners = new Map((auction?.winners ?? []).map((w) => [w.adId, w]));
    const pHideOf = hideScores(trace);
    const pCtrRawOf = rawCtrScores(trace);
    return {
      requestId: trace.requestId,
      servedAt: trace.servedAt,
      userId: request.userId,
      surface: request.surface,
      country: request.country,
      device: request.device,
      modelVersion: scores?.modelVersion ?? null,
      featureDim: rows ? FEATURE_SPEC.dim : null,
      degraded,
      ...(request.query === undefined ? {} : { query: request.query }),
      ...(request.contextAdId === undefined ? {} : { contextAdId: request.contextAdId }),
      userActivity: trace.user.activity ?? null,
      ads: ads.map((ad, i) => {
        const winner = winners.get(ad.adId)!;
        return {
          slot: ad.slot,
          adId: ad.adId,
          campaignId: ad.campaignId,
          advertiserId: ad.advertiserId,
          bidType: winner.bidType,
          bid: winner.bid,
          price: winner.price,
          pCtr: winner.pCtr,
          ...(pCtrRawOf ? { pCtrRaw: pCtrRawOf.get(ad.adId) ?? null } : {}),
          pCvr: winner.pCvr,
          ...(pHideOf ? { pHide: pHideOf.get(ad.adId) ?? null } : {}),
          features: rows ? Array.from(rows.subarray(i * FEATURE_SPEC.dim, (i + 1) * FEATURE_SPEC.dim)) : null,
        };
      }),
    };
  }

  /**
   * The model inputs ranking scored the served ads with, rebuilt by the same libs/features code from
   * the same inputs: the user context sent to ranking and the ads of the catalog version ranking
   * reported. Null when ranking was skipped, or when this build or this catalog snapshot differs
   * from ranking's (a deploy in progress, a catalog refresh in between): a row that might not be
   * exact is not logged as if it were.
   */
  private featureRows(request: AdRequest, trace: FunnelTrace, ads: readonly ServedAd[]): Float32Array | null {
    const { scores } = trace;
    if (!scores) return null;
    const snapshot = this.catalog.snapshot();
    if (scores.featureSpec !== this.featureSpec || scores.catalogVersion !== snapshot.version) {
      this.logger.warn({
        msg: 'served features not logged: ranking scored with another feature spec or catalog version',
        requestId: trace.requestId,
        ranking: { featureSpec: scores.featureSpec, catalogVersion: scores.catalogVersion },
        gateway: { featureSpec: this.featureSpec, catalogVersion: snapshot.version },
      });
      return null;
    }
    const adInputs = ads.map((ad) => snapshot.byId.get(ad.adId));
    if (adInputs.some((ad) => ad === undefined)) return null;
    const { interests, device, known, activity } = trace.user;
    return buildFeatureMatrix(
      featureRequestOf(
        { interests, device, known, activity },
        request.surface,
        { query: request.query, contextAdId: request.contextAdId },
        snapshot.byId,
      ),
      adInputs as CatalogAd[],
    );
  }
}

/** The model's P(hide | examined) by ad id, when it has a hide head; null (no pHide logged) otherwise. */
function hideScores({ scores, scoredAdIds }: FunnelTrace): Map<number, number> | null {
  if (scores?.pHide === undefined || scoredAdIds === undefined) return null;
  const { pHide } = scores;
  return new Map(scoredAdIds.map((adId, i) => [adId, pHide[i]] as const));
}

/** The model's pCTR by ad id before ranking calibrated it; null when no calibrator applied. */
function rawCtrScores({ scores, scoredAdIds }: FunnelTrace): Map<number, number> | null {
  if (scores?.pCtrRaw === undefined || scoredAdIds === undefined) return null;
  const { pCtrRaw } = scores;
  return new Map(scoredAdIds.map((adId, i) => [adId, pCtrRaw[i]] as const));
}

function readyOrError(redis: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const ready = () => {
      redis.off('error', failed);
      resolve();
    };
    const failed = (err: Error) => {
      redis.off('ready', ready);
      reject(err);
    };
    redis.once('ready', ready);
    redis.once('error', failed);
  });
}
