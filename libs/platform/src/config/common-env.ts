import { z } from 'zod';
import { natsUrlProblem } from '../bus/nats-connection.js';
import { clockSpecProblem } from '../clock/clock-spec.js';
import { DEFAULT_HTTP_SERVER_LIMITS } from '../http/http-server-limits.js';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** Ordered from least to most verbose: a level enables itself and every level before it. */
export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** An integer variable whose every error says what was expected, e.g. `expected a port number, got "x"`. */
export function envInteger(what: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.coerce
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .min(min, { error: `expected ${what}` })
    .max(max, { error: `expected ${what}` });
}

export function envPort(fallback: number) {
  return envInteger('a port number', 1, 65535).default(fallback);
}

const DATABASE_URL_PATTERN = /^postgres(ql)?:\/\/.+/;

/**
 * Environment variables every app understands. Spread into an app schema:
 * `z.object({ ...CommonEnv, PORT: z.coerce.number().int().min(1).max(65535).default(3001) })`.
 */
export const CommonEnv = {
  /**
   * `nats://user:password@host:4222` (or `nats://token@host:4222`) where the server requires
   * authentication (docker/nats.conf); the credentials never reach a log line.
   */
  NATS_URL: z
    .string()
    .superRefine((value, context) => {
      const problem = natsUrlProblem(value);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
    })
    .default('nats://127.0.0.1:4222'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, { error: 'must start with redis:// or rediss://' })
    .default('redis://127.0.0.1:6379'),
  DATABASE_URL: z
    .string()
    .regex(DATABASE_URL_PATTERN, { error: 'must start with postgres:// or postgresql://' })
    .optional(),
  SQLITE_PATH: z.string().min(1).default('var/adfunnel.sqlite'),
  /** Bearer token of the operator endpoints (`/admin/...`); unset, they answer 403. */
  ADMIN_TOKEN: z.string().min(24, { error: 'must be at least 24 characters' }).optional(),
  /** Bearer token GET /metrics wants from the scraper; unset, /metrics is open like /health. */
  METRICS_TOKEN: z.string().min(24, { error: 'must be at least 24 characters' }).optional(),
  LOG_FORMAT: z.enum(LOG_FORMATS, { error: `expected one of ${LOG_FORMATS.join(', ')}` }).default('pretty'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('log'),
  BUS_TIMEOUT_MS: envInteger('a positive integer', 1).default(1000),
  /** How often each service reloads its catalog snapshot; 0 loads it once. */
  CATALOG_REFRESH_MS: envInteger('a non-negative integer of milliseconds (0 disables)', 0).default(60_000),
  /**
   * How often each service asks the catalog whether a writer (the advertiser API) changed it, and
   * reloads at once when it did: one indexed row read; 0 leaves changes to CATALOG_REFRESH_MS alone.
   */
  CATALOG_CHANGE_POLL_MS: envInteger('a non-negative integer of milliseconds (0 disables)', 0).default(1000),
  /**
   * Prefix for every bus subject, so that several funnels share one NATS without answering each
   * other's requests (a test run beside a developer's funnel). Empty: the plain subjects.
   */
  BUS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,64}$/, { error: 'expected up to 64 of [A-Za-z0-9_-]' })
    .default(''),
  /**
   * The time money and pacing follow, the same value for every service of one funnel: `system`, or
   * `scaled:<start ISO>@<wall anchor epoch ms>x<speed>` (a simulated day in minutes).
   */
  CLOCK: z
    .string()
    .default('system')
    .superRefine((value, context) => {
      const problem = clockSpecProblem(value);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
    }),
  /** Slow clients: headers, then the whole request, must arrive within these; idle keep-alive ends. */
  HTTP_HEADERS_TIMEOUT_MS: envInteger('a positive integer of milliseconds', 1).default(
    DEFAULT_HTTP_SERVER_LIMITS.headersTimeoutMs,
  ),
  HTTP_REQUEST_TIMEOUT_MS: envInteger('a positive integer of milliseconds', 1).default(
    DEFAULT_HTTP_SERVER_LIMITS.requestTimeoutMs,
  ),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: envInteger('a positive integer of milliseconds', 1).default(
    DEFAULT_HTTP_SERVER_LIMITS.keepAliveTimeoutMs,
  ),
  /** Connections beyond this many are closed on accept; keep it below the open-file limit. */
  HTTP_MAX_CONNECTIONS: envInteger('a positive integer', 1).default(
    DEFAULT_HTTP_SERVER_LIMITS.maxConnections,
  ),
  /** Requests a minute per client on each public endpoint (`@RateLimited()`); 0 turns the limit off. */
  RATE_LIMIT_PER_MINUTE: envInteger('a non-negative integer (0 disables)', 0).default(0),
  /**
   * Where traces go (an OTLP collector's base URL, e.g. http://127.0.0.1:4318; spans are sent to its
   * /v1/traces over HTTP/protobuf). Unset, tracing is off and costs nothing.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** Share of ad requests traced when tracing is on; a stage follows the decision of its caller. */
  TRACING_SAMPLE_RATIO: z.coerce
    .number({ error: 'expected a number from 0 to 1' })
    .min(0, { error: 'expected a number from 0 to 1' })
    .max(1, { error: 'expected a number from 0 to 1' })
    .default(1),
};

export type CommonConfig = z.infer<z.ZodObject<typeof CommonEnv>>;
