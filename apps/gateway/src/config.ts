import { DeliveryEnv } from '@adfunnel/delivery-diagnostics';
import { CommonEnv, type Env, envInteger, envPort, loadConfig, parseConfig } from '@adfunnel/platform';
import { refuseWeakTrackingSecretInProduction, TrackingSecretEnv } from '@adfunnel/tracking';
import { UserActivityEnv } from '@adfunnel/user-activity';
import { z } from 'zod';

const ms = (fallback: number) => envInteger('a positive integer of milliseconds', 1).default(fallback);

export const GatewayConfigSchema = z
  .object({
    ...CommonEnv,
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    GATEWAY_HOST: z.string().default('127.0.0.1'),
    GATEWAY_PORT: envPort(3100),
    /**
     * Base URL of the logging service as product surfaces reach it; tracking URLs point there.
     * Default: logging on this host, at LOGGING_PORT.
     */
    TRACKING_BASE_URL: z.url().optional(),
    /** Where logging listens (logging's own value), for the default TRACKING_BASE_URL. */
    LOGGING_PORT: envPort(3104),
    ...TrackingSecretEnv,
    ...DeliveryEnv,
    TRACKING_TTL_MS: ms(24 * 3600 * 1000),
    /** The whole request, from receipt to answer. */
    GATEWAY_DEADLINE_MS: ms(250),
    RETRIEVAL_TIMEOUT_MS: ms(80),
    RANKING_TIMEOUT_MS: ms(80),
    AUCTION_TIMEOUT_MS: ms(100),
    /** Key prefix of the logging queues in Redis (logging's own value): served records are added there. */
    LOGGING_QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected 1-64 of [A-Za-z0-9_.-]' })
      .default('adfunnel'),
    /**
     * How long a request waits for its request-id claim, and for Redis to confirm its served record;
     * past it the record is withheld unless Redis already has it (README, "Served records").
     */
    SERVED_RECORD_TIMEOUT_MS: ms(100),
    /**
     * The longest a request waits for any word from Redis on its served record; past it the answer
     * carries no ads and the record is withdrawn. More than SERVED_RECORD_TIMEOUT_MS; unset: three
     * times it, at least 300.
     */
    SERVED_RECORD_GIVE_UP_MS: envInteger('a positive integer of milliseconds', 1).optional(),
    /**
     * Ad requests served at once; beyond, POST /v1/ads is shed with 503 and Retry-After before its
     * body is read (0: no limit). README, "Overload".
     */
    GATEWAY_MAX_IN_FLIGHT: envInteger('a non-negative integer (0: no limit)', 0, 100_000).default(64),
    /**
     * The in-flight limit (at most GATEWAY_MAX_IN_FLIGHT) adapts to keep the admitted requests' 90th
     * percentile latency within this (0: the limit is GATEWAY_MAX_IN_FLIGHT).
     */
    GATEWAY_TARGET_LATENCY_MS: envInteger(
      'a non-negative integer of milliseconds (0: a fixed limit)',
      0,
      60_000,
    ).default(50),
    /** New ad requests are shed while the event loop runs this many ms behind (0: not watched). */
    GATEWAY_MAX_EVENT_LOOP_DELAY_MS: envInteger(
      'a non-negative integer of milliseconds (0: not watched)',
      0,
      10_000,
    ).default(50),
    RETRIEVAL_CANDIDATES: envInteger('an integer from 1 to 2000', 1, 2000).default(200),
    GATEWAY_BODY_LIMIT_BYTES: envInteger('a size in bytes from 1024 to 1048576', 1024, 1_048_576).default(
      16_384,
    ),
    /** Users whose activity state is cached (0: none), each for PROFILE_CACHE_TTL_MS at most. */
    PROFILE_CACHE_SIZE: envInteger('a non-negative integer (0 disables the cache)', 0).default(50_000),
    /** Kept short: a click must show in the user's next requests within seconds. */
    PROFILE_CACHE_TTL_MS: envInteger(
      'an integer of milliseconds from 0 to 5000 (0 disables the cache)',
      0,
      5000,
    ).default(1000),
    /** A fold of a POST /v1/activity report that Redis has not confirmed by then answers 503. */
    ACTIVITY_REDIS_TIMEOUT_MS: envInteger('an integer of milliseconds from 1 to 10000', 1, 10_000).default(
      1000,
    ),
    ...UserActivityEnv,
    /**
     * A JSON file of marketplace experiments (libs/experiments): layers, arms, holdout, launches.
     * Unset: no experiments, no assignment. Validated at start, re-read on SIGHUP, on
     * POST /admin/experiments/reload and when the file changes (README, "Experiments").
     */
    EXPERIMENTS_CONFIG: z.string().min(1).optional(),
    /** How often the EXPERIMENTS_CONFIG file is checked for changes (0: only SIGHUP and the endpoint). */
    EXPERIMENTS_WATCH_MS: envInteger('a non-negative integer of milliseconds (0 disables)', 0).default(2_000),
  })
  .superRefine(refuseWeakTrackingSecretInProduction)
  .superRefine((config, ctx) => {
    if (
      config.SERVED_RECORD_GIVE_UP_MS !== undefined &&
      config.SERVED_RECORD_GIVE_UP_MS <= config.SERVED_RECORD_TIMEOUT_MS
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['SERVED_RECORD_GIVE_UP_MS'],
        message: `must be more than SERVED_RECORD_TIMEOUT_MS (${config.SERVED_RECORD_TIMEOUT_MS}), got ${config.SERVED_RECORD_GIVE_UP_MS}`,
      });
    }
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema> & {
  TRACKING_BASE_URL: string;
  SERVED_RECORD_GIVE_UP_MS: number;
};

/** The validated environment with TRACKING_BASE_URL resolved (it follows LOGGING_PORT unless set). */
export function parseGatewayConfig(env: Env): GatewayConfig {
  return withTrackingBaseUrl(parseConfig(GatewayConfigSchema, env));
}

export function loadGatewayConfig(): GatewayConfig {
  return withTrackingBaseUrl(loadConfig(GatewayConfigSchema));
}

function withTrackingBaseUrl(config: z.infer<typeof GatewayConfigSchema>): GatewayConfig {
  return {
    ...config,
    TRACKING_BASE_URL: config.TRACKING_BASE_URL ?? `http://127.0.0.1:${config.LOGGING_PORT}`,
    SERVED_RECORD_GIVE_UP_MS:
      config.SERVED_RECORD_GIVE_UP_MS ?? Math.max(300, 3 * config.SERVED_RECORD_TIMEOUT_MS),
  };
}
