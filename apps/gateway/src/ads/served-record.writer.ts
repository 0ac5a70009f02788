import { randomUUID } from 'node:crypto';
import { type CatalogAd, CatalogSnapshotService } from '@adfunnel/catalog';
import {
  AdfunnelError,
  type AdRequest,
  type Degradation,
  JobNames,
  persistJobOptions,
  SERVED_OUTCOME_LUA,
  SERVED_OUTCOME_TTL_MS,
  type ServedAd,
  ServedOutcome,
  type ServedRecord,
  servedOutcomeKey,
} from '@adfunnel/contracts';
import {
  FEATURE_SPEC,
  buildFeatureMatrix,
  categoryMixturesOf,
  featureRequestOf,
  featureSpecFingerprint,
} from '@adfunnel/features';
import { type Counter, InjectConfig, Metrics, startAtZero } from '@adfunnel/platform';
import { RedisScript } from '@adfunnel/redis';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config.js';
import type { FunnelTrace } from './funnel-trace.js';
import { SERVED_QUEUE, type ServedQueue } from './served-queue.js';

/** A job's worth of records at most; more wait for the next add. */
const MAX_RECORDS_PER_JOB = 200;

const decideScript = new RedisScript('served-outcome-decide', SERVED_OUTCOME_LUA.decide);
const withdrawScript = new RedisScript('served-outcome-withdraw', SERVED_OUTCOME_LUA.withdraw);

interface PendingRecord {
  record: ServedRecord;
  /** When the request asked for its record (performance.now()). */
  startedAt: number;
  /** The first outcome wins (the job's, or the request's timeout while waiting); reports whether it was this one. */
  settle(durable: boolean): boolean;
}

/** What became of a request's record, counted by `adfunnel_gateway_served_records_total`. */
export const SERVED_RECORD_OUTCOMES = [
  'recorded',
  'withheld',
  'failed',
  'gave_up',
  'withdrawn',
  'stored_without_ads',
] as const;
type RecordOutcome = (typeof SERVED_RECORD_OUTCOMES)[number];

const GAVE_UP = Symbol('gave up');

/**
 * The served-ad record's durable hand-off: the gateway adds the bull job logging's ServedProcessor
 * consumes (`Queues.served`) to Redis itself, and an answer carries its ads only once its record is
 * there, so neither an outage of logging nor a crash of the gateway after the answer loses it.
 *
 * Records that arrive while an add is in flight go out together in the next one (group commit, no
 * timer): an idle gateway adds at once, a busy one makes fewer, larger jobs.
 *
 * Whether a job's answers carry their ads is decided in Redis, once (`ServedOutcome` in contracts), so
 * an answer that went out without ads never leaves rows behind: the job's outcome is set `served` on
 * the add's own connection just before the add. A record still unconfirmed after
 * SERVED_RECORD_TIMEOUT_MS asks Redis over a second connection to withhold it; whichever reached Redis
 * first stands, and the answer follows it. (A timer alone cannot tell: on a busy event loop it fires
 * while the add's reply waits unread, and the record landed for an answer without ads.) Past
 * SERVED_RECORD_GIVE_UP_MS with no word from Redis the answer goes out without ads and the outcome is
 * withdrawn if logging has not taken it yet.
 *
 * It also claims each request id (SET NX, for the tracking tokens' lifetime) before the funnel runs:
 * served rows and tracking events are keyed by the request id, so a second request under the same
 * id would lose its rows to the first's.
 */
@Injectable()
export class ServedRecordWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ServedRecordWriter.name);
  private readonly redis: Redis;
  /** The second connection, for withholding and withdrawing while the first is busy with adds. */
  private readonly decider: Redis;
  private readonly featureSpec = featureSpecFingerprint();
  private readonly outcomes: Record<RecordOutcome, Counter.Internal>;
  private waiting: PendingRecord[] = [];
  private adding: Promise<void> | undefined;
  private readonly withdrawals = new Set<Promise<void>>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    @InjectConfig() private readonly config: GatewayConfig,
    @Inject(SERVED_QUEUE) private readonly queue: ServedQueue,
    metrics: Metrics,
  ) {
    this.redis = queue.client;
    this.redis.on('error', (err: Error) => this.logger.debug(`redis: ${err.message}`));
    this.decider = this.redis.duplicate({ connectionName: 'adfunnel-gateway-served-outcome' });
    this.decider.on('error', (err: Error) => this.logger.debug(`redis (outcomes): ${err.message}`));
    const counter = metrics.counter({
      name: 'adfunnel_gateway_served_records_total',
      help:
        'Served records by what became of them: recorded (the answer carried its ads), withheld (Redis was ' +
        'slower than SERVED_RECORD_TIMEOUT_MS; no ads, nothing stored), failed (Redis refused or was down), ' +
        'gave_up (no word from Redis within SERVED_RECORD_GIVE_UP_MS), then withdrawn (nothing stored) or ' +
        'stored_without_ads (logging stored it before the withdrawal reached Redis)',
      labelNames: ['outcome'],
    });
    this.outcomes = Object.fromEntries(
      SERVED_RECORD_OUTCOMES.map((outcome) => [outcome, startAtZero(counter.labels(outcome))]),
    ) as Record<RecordOutcome, Counter.Internal>;
    // The feature rows are built before the answer: the ads' category mixtures are decoded once per
    // snapshot as it is swapped in, as ranking does, not by the first request that logs its rows.
    this.unsubscribe = catalog.onChange((snapshot) => void categoryMixturesOf(snapshot.ads));
  }

  async onModuleInit(): Promise<void> {
    try {
      // bull may have started the connection already (its constructor touches the client).
      if (this.redis.status === 'wait') await this.redis.connect();
      else if (this.redis.status !== 'ready') await readyOrError(this.redis);
      await this.decider.connect();
    } catch (err) {
      // ioredis keeps reconnecting; until then answers carry no ads and /health reports Redis down.
      this.logger.warn(`Redis not reachable at start-up: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe();
    await this.adding;
    await Promise.all(this.withdrawals);
    await this.queue.close().catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
    await this.decider.quit().catch(() => this.decider.disconnect());
  }

  /**
   * Claims `requestId` before the funnel runs: true once claimed. A request id already claimed is
   * refused (409). False when Redis does not answer: the id's uniqueness is unknown and no record
   * could be written either, so the caller serves no ads (and reserves no budget for them).
   */
  async claim(requestId: string): Promise<boolean> {
    let claimed: string | null;
    try {
      claimed = await withinMs(
        this.redis.set(
          `${this.config.LOGGING_QUEUE_PREFIX}:served-request-ids:${requestId}`,
          '1',
          'PX',
          this.config.TRACKING_TTL_MS,
          'NX',
        ),
        this.config.SERVED_RECORD_TIMEOUT_MS,
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
      // Only while the record waits for an add: once sent, its job's outcome settles it.
      const timer = setTimeout(() => {
        if (!this.waiting.includes(pending) || !pending.settle(false)) return;
        this.waiting = this.waiting.filter((p) => p !== pending);
        this.outcomes.withheld.inc();
        this.logger.warn({
          msg: `served record not sent to Redis within ${this.config.SERVED_RECORD_TIMEOUT_MS} ms; answering without ads`,
          requestId: trace.requestId,
        });
      }, this.config.SERVED_RECORD_TIMEOUT_MS);
      const pending: PendingRecord = {
        record,
        startedAt: performance.now(),
        settle: (durable) => {
          if (settled) return false;
          settled = true;
          clearTimeout(timer);
          resolve(durable);
          return true;
        },
      };
      this.waiting.push(pending);
      this.startAdding();
    });
  }

  /** One add loop at a time; a record that arrived as the last loop was ending starts the next. */
  private startAdding(): void {
    if (this.adding !== undefined) return;
    this.adding = this.addWaiting().finally(() => {
      this.adding = undefined;
      if (this.waiting.length > 0) this.startAdding();
    });
  }

  private async addWaiting(): Promise<void> {
    while (this.waiting.length > 0) {
      // A record whose time ran out while it waited (or with under a millisecond left, too little for
      // Redis to confirm it) is not sent; its own timer may not have run yet.
      const latest = performance.now() - this.config.SERVED_RECORD_TIMEOUT_MS + 1;
      const expired = this.waiting.filter((p) => p.startedAt <= latest);
      if (expired.length > 0) {
        this.waiting = this.waiting.filter((p) => !expired.includes(p));
        this.settleAll(expired, false, 'withheld');
        continue;
      }
      await this.addJob(this.waiting.splice(0, MAX_RECORDS_PER_JOB));
    }
  }

  /** One job: its outcome decided in Redis, then every record of it settled the same way. */
  private async addJob(batch: PendingRecord[]): Promise<void> {
    const records = batch.map((p) => p.record);
    const jobId = `served:${records[0].requestId}:${randomUUID().slice(0, 8)}`;
    const outcomeKey = servedOutcomeKey(this.config.LOGGING_QUEUE_PREFIX, jobId);
    const fail = (error: string) => {
      this.logger.warn({
        msg: 'served records not written to Redis; their answers carry no ads',
        records: records.length,
        requestIds: records.map((r) => r.requestId).slice(0, 20),
        error,
      });
      this.settleAll(batch, false, 'failed');
    };
    if (this.redis.status !== 'ready') return fail(`not connected to Redis (${this.redis.status})`);

    // Sent before the add on the same connection, so Redis holds the outcome before the job.
    const served = this.decide(this.redis, outcomeKey, ServedOutcome.served);
    const added = this.queue
      .add(JobNames.persistServed, { records, outcomeKey }, persistJobOptions(jobId))
      .then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, error: (err as Error).message }),
      );

    const started = Math.min(...batch.map((p) => p.startedAt));
    const timers: NodeJS.Timeout[] = [];
    const after = <T>(ms: number, value: () => T | Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        const wait = Math.max(0, started + ms - performance.now());
        timers.push(
          setTimeout(() => {
            Promise.resolve(value()).then(resolve, reject);
          }, wait),
        );
      });
    const giveUp = after<typeof GAVE_UP>(this.config.SERVED_RECORD_GIVE_UP_MS, () => GAVE_UP);
    // Slow to confirm (or the decide failed outright): ask for withheld; the first outcome set stands.
    let known: ServedOutcome | undefined;
    const withhold = () => known ?? this.decide(this.decider, outcomeKey, ServedOutcome.withheld);
    const outcome = firstSettled([
      served.catch(() => withhold()),
      after(this.config.SERVED_RECORD_TIMEOUT_MS, withhold),
    ]).then((value) => (known = value));
    try {
      const decided = await Promise.race([outcome, giveUp]);
      // served, or stored: logging took the job before this process read the reply.
      if (decided === ServedOutcome.withheld) return this.withheld(batch, jobId);
      if (decided !== GAVE_UP) {
        const add = await Promise.race([added, giveUp]);
        if (add !== GAVE_UP) return add.ok ? this.settleAll(batch, true, 'recorded') : fail(add.error);
      }
      this.gaveUp(batch, jobId, outcomeKey);
    } catch (err) {
      // Neither connection could set an outcome: the job, if it landed, finds none and is dropped.
      fail((err as Error).message);
    } finally {
      timers.forEach(clearTimeout);
    }
  }

  private async decide(redis: Redis, key: string, outcome: ServedOutcome): Promise<ServedOutcome> {
    const set = await decideScript.run(redis, [key], [outcome, SERVED_OUTCOME_TTL_MS]);
    return set as ServedOutcome;
  }

  private settleAll(batch: readonly PendingRecord[], durable: boolean, outcome: RecordOutcome): void {
    for (const p of batch) if (p.settle(durable)) this.outcomes[outcome].inc();
  }

  private withheld(batch: readonly PendingRecord[], jobId: string): void {
    this.logger.warn({
      msg: `served records not confirmed by Redis within ${this.config.SERVED_RECORD_TIMEOUT_MS} ms; withheld, their answers carry no ads`,
      jobId,
      records: batch.length,
    });
    this.settleAll(batch, false, 'withheld');
  }

  /** No word from Redis in time: no ads, and a served outcome withdrawn before logging stores it. */
  private gaveUp(batch: readonly PendingRecord[], jobId: string, outcomeKey: string): void {
    this.settleAll(batch, false, 'gave_up');
    this.logger.warn({
      msg: `no word from Redis on served records within ${this.config.SERVED_RECORD_GIVE_UP_MS} ms; answering without ads and withdrawing them`,
      jobId,
      records: batch.length,
    });
    const withdrawal = withdrawScript
      .run(this.decider, [outcomeKey], [])
      .then((found) => {
        if (found === ServedOutcome.stored) {
          this.outcomes.stored_without_ads.inc(batch.length);
          this.logger.error({
            msg: 'served records stored by logging although their answers went out without ads',
            jobId,
            records: batch.length,
          });
        } else this.outcomes.withdrawn.inc(batch.length);
      })
      .catch((err: unknown) =>
        this.logger.error({
          msg: 'served records not withdrawn: Redis did not answer; logging may store them',
          jobId,
          error: (err as Error).message,
        }),
      )
      .finally(() => this.withdrawals.delete(withdrawal));
    this.withdrawals.add(withdrawal);
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
      ...(trace.experimentArms === undefined ? {} : { experimentArms: trace.experimentArms }),
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
        snapshot,
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

/** The first of `promises` to resolve; rejects only when all of them reject. */
function firstSettled<T>(promises: readonly Promise<T>[]): Promise<T> {
  return Promise.any(promises).catch((err: unknown) => {
    throw err instanceof AggregateError ? (err.errors[0] as Error) : err;
  });
}

/** `promise`, or a rejection once `ms` passed without it (the command may still run). */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
