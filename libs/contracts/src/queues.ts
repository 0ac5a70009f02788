import { z } from 'zod';
import { BidTypeSchema, DeviceSchema, type EventType, SurfaceSchema, UserActivitySchema } from './domain.js';

/**
 * Bull queues (Redis) the logging service works off, with the payload of each job. Logging adds the
 * tracking events; the gateway adds the served records itself, before it answers.
 */
export const Queues = {
  events: 'adfunnel-events',
  served: 'adfunnel-served',
  /** Ranking adds the shadow model's scores beside the live ones (only while a shadow runs). */
  shadow: 'adfunnel-shadow',
} as const;

export const JobNames = {
  /** One tracking event, its id the job id (clicks and conversions: a conversion looks its click up by it). */
  persistEvent: 'persist-event',
  /** Impressions and hides accepted together (TrackingEventsJob): one job, one transaction. */
  persistEvents: 'persist-events',
  persistServed: 'persist-served',
  persistShadow: 'persist-shadow',
} as const;

/** How often a worker tries a job before keeping it in the failed set (logging's LOGGING_JOB_ATTEMPTS). */
export const DEFAULT_PERSIST_JOB_ATTEMPTS = 8;

/**
 * Every persist job, whoever adds it: retried with exponential backoff from 500 ms (8 attempts take
 * about two minutes), removed once stored, kept in the failed set when every attempt failed.
 */
export function persistJobOptions(jobId: string, attempts = DEFAULT_PERSIST_JOB_ATTEMPTS) {
  return {
    jobId,
    attempts,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: true,
    removeOnFail: false,
  };
}

/** A verified tracking callback, ready to persist. `eventId` is deterministic, so a repeat is a no-op. */
export interface TrackingEventJob {
  eventId: string;
  type: EventType;
  requestId: string;
  userId: string;
  adId: number;
  campaignId: number;
  advertiserId: number;
  slot: number;
  bidType: 'CPM' | 'CPC' | 'CPA';
  /** Price per unit of bidType agreed at auction time. */
  price: number;
  servedAt: number;
  occurredAt: number;
  /** A conversion: the click it is attributed to (that click's event id). */
  clickEventId?: string;
  /** A conversion: the advertiser's own id for it, its dedup key. */
  conversionId?: string;
  /** The budget slice the served ad was reserved from (BudgetSlice.key); absent: the whole budget. */
  budgetSlice?: string;
}

/** Tracking events the tracking endpoint accepted together; each still stored once by its `eventId`. */
export interface TrackingEventsJob {
  events: TrackingEventJob[];
}

export const ServedAdRecordSchema = z.strictObject({
  slot: z.number().int(),
  adId: z.number().int(),
  campaignId: z.number().int(),
  advertiserId: z.number().int(),
  bidType: BidTypeSchema,
  bid: z.number(),
  price: z.number(),
  pCtr: z.number().nullable(),
  /** The model's pCTR when ranking calibrated pCtr; absent or null when no calibrator applied. */
  pCtrRaw: z.number().nullable().optional(),
  pCvr: z.number().nullable(),
  /** P(hide | examined) as ranking predicted it; absent from older records and models without a hide head. */
  pHide: z.number().nullable().optional(),
  /** The exact feature row ranking scored this ad with; null when ranking was skipped. */
  features: z.array(z.number()).nullable(),
});
export type ServedAdRecord = z.infer<typeof ServedAdRecordSchema>;

/** What a served ad's row needs beyond its fields: slots are the row key, and a row has featureDim numbers. */
export const ServedRecordSchema = z
  .strictObject({
    requestId: z.string().min(1).max(128),
    servedAt: z.number().int(),
    userId: z.string(),
    surface: SurfaceSchema,
    country: z.string(),
    device: DeviceSchema,
    modelVersion: z.string().nullable(),
    featureDim: z.number().int().nullable(),
    degraded: z.array(z.string()),
    /** The request's search query; logging folds it into the user's activity, once per request. */
    query: z.string().max(256).optional(),
    /** The item the ads were shown next to (related_items surface). */
    contextAdId: z.number().int().positive().optional(),
    /**
     * The activity state the request was served with (UserContext.activity), so training rebuilds what
     * serving saw; null or absent for a user without activity.
     */
    userActivity: UserActivitySchema.nullable().optional(),
    /**
     * The request's experiment arms as libs/experiments labels them (`auction:hide-weight/treatment,...`,
     * `holdout` for the long-term holdout, `` when no layer assigned it); absent when the gateway runs
     * no experiments (EXPERIMENTS_CONFIG unset).
     */
    experimentArms: z.string().max(4096).nullable().optional(),
    ads: z.array(ServedAdRecordSchema),
  })
  .superRefine((record, context) => {
    const slots = new Set<number>();
    record.ads.forEach((ad, i) => {
      const problem = (message: string) => context.addIssue({ code: 'custom', path: ['ads', i], message });
      if (slots.has(ad.slot)) problem(`slot ${ad.slot} appears more than once`);
      slots.add(ad.slot);
      if (ad.features === null) return;
      if (record.featureDim === null) problem(`slot ${ad.slot} has features but featureDim is null`);
      else if (ad.features.length !== record.featureDim) {
        problem(
          `slot ${ad.slot} has ${ad.features.length} features, expected featureDim ${record.featureDim}`,
        );
      }
    });
  });
export type ServedRecord = z.infer<typeof ServedRecordSchema>;

/**
 * One job for the records of the requests a gateway answered while its previous add was in flight
 * (often one). Rows are keyed `${requestId}:${slot}`, so a redelivered job stores nothing twice.
 */
export const ServedRecordJobSchema = z.strictObject({
  records: z.array(ServedRecordSchema).min(1),
  /**
   * The Redis key holding whether the answers went out with these ads (SERVED_OUTCOME). Absent in jobs
   * of gateways from before it: those are stored as they are.
   */
  outcomeKey: z.string().min(1).optional(),
});
export type ServedRecordJob = z.infer<typeof ServedRecordJobSchema>;

/**
 * One request's candidates as the live model and a shadow model scored them (same feature rows,
 * index i of every array is adIds[i]); the comparison report joins them to the served ads' outcomes.
 */
export const ShadowScoreRecordSchema = z
  .strictObject({
    requestId: z.string().min(1).max(128),
    scoredAt: z.number().int(),
    surface: SurfaceSchema,
    liveVersion: z.string().min(1).max(128),
    shadowVersion: z.string().min(1).max(128),
    adIds: z.array(z.number().int()).min(1),
    livePCtr: z.array(z.number()),
    livePCvr: z.array(z.number()),
    shadowPCtr: z.array(z.number()),
    shadowPCvr: z.array(z.number()),
  })
  .superRefine((record, context) => {
    for (const key of ['livePCtr', 'livePCvr', 'shadowPCtr', 'shadowPCvr'] as const) {
      if (record[key].length !== record.adIds.length) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: `has ${record[key].length} scores for ${record.adIds.length} adIds`,
        });
      }
    }
  });
export type ShadowScoreRecord = z.infer<typeof ShadowScoreRecordSchema>;

/** Records ranking scored while its previous add was in flight; rows are keyed `${requestId}:${shadowVersion}`. */
export const ShadowScoreJobSchema = z.strictObject({ records: z.array(ShadowScoreRecordSchema).min(1) });
export type ShadowScoreJob = z.infer<typeof ShadowScoreJobSchema>;

/**
 * Whether the answers of one served job went out with their ads, decided once, in Redis, so the
 * gateway's answer and logging's rows never disagree. The gateway sets `served` (SERVED_OUTCOME_LUA.decide)
 * on the connection it adds the job on, before the add; when Redis is slow to confirm, it sets `withheld`
 * over a second connection and the first value to arrive stays. Logging reads the outcome
 * (SERVED_OUTCOME_LUA.take) before it stores a job, and stores only `served` ones; a gateway that gave
 * up waiting withdraws a `served` outcome logging has not taken yet (SERVED_OUTCOME_LUA.withdraw).
 */
export const ServedOutcome = {
  /** The answers carry the ads (once the job's add is confirmed too). */
  served: 'served',
  /** The answers went out without ads: the job's records must not be stored. */
  withheld: 'withheld',
  /** Logging took a `served` outcome and stores the job (a retry stores it again). */
  stored: 'stored',
} as const;
export type ServedOutcome = (typeof ServedOutcome)[keyof typeof ServedOutcome];

export function servedOutcomeKey(queuePrefix: string, jobId: string): string {
  return `${queuePrefix}:served-outcome:${jobId}`;
}

/** How long an outcome waits for logging to take it: a job waiting longer is dropped (never stored). */
export const SERVED_OUTCOME_TTL_MS = 7 * 24 * 3600 * 1000;
/** How long an outcome logging has taken stays, for a late withdrawal to see it was too late. */
export const SERVED_OUTCOME_TAKEN_TTL_MS = 10 * 60 * 1000;

/** The Lua of each step on an outcome key (KEYS[1]); run with RedisScript (libs/redis). */
export const SERVED_OUTCOME_LUA = {
  /** ARGV[1] the outcome, ARGV[2] its TTL ms: the first outcome set stays; returns the one that did. */
  decide: `local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`,
  /**
   * Logging's read before storing, ARGV[1] the TTL ms of a taken outcome: served becomes stored and is
   * returned as served; no outcome at all (the gateway never decided one) is made withheld.
   */
  take: `local v = redis.call('GET', KEYS[1])
if v == 'served' then
  redis.call('SET', KEYS[1], 'stored', 'PX', ARGV[1])
  return v
end
if not v then
  redis.call('SET', KEYS[1], 'withheld', 'PX', ARGV[1])
  return 'withheld'
end
return v`,
  /**
   * The gateway's withdrawal after it gave up waiting and answered without ads: a served outcome
   * becomes withheld. Returns the outcome found (stored: logging had taken it, too late).
   */
  withdraw: `local v = redis.call('GET', KEYS[1])
if v == 'served' then redis.call('SET', KEYS[1], 'withheld', 'KEEPTTL') end
return v`,
} as const;
