import { CALIBRATION_METHODS } from '@adfunnel/models';
import { CommonEnv, loadConfig, type Env, envInteger, envPort } from '@adfunnel/platform';
import { z } from 'zod';

export const RankingConfigSchema = z.object({
  ...CommonEnv,
  RANKING_HOST: z.string().min(1).default('127.0.0.1'),
  RANKING_PORT: envPort(3102),
  /** Root of the model registry; relative paths resolve against the working directory. */
  MODELS_DIR: z.string().min(1).default('models'),
  /** Model under MODELS_DIR whose `current` file names the version to serve. */
  RANKING_MODEL: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, { error: 'expected a model directory name such as "ranking"' })
    .default('ranking'),
  /** Inference worker threads, one onnxruntime session (one intra-op thread) each. */
  RANKING_WORKERS: envInteger('an integer from 1 to 64', 1, 64).default(2),
  /**
   * How often the served model's `current` file is polled for a new version (fs.watch also reacts at
   * once where the file system delivers events); 0 turns the watch off. POST /admin/model/reload works either way.
   */
  RANKING_MODEL_WATCH_MS: envInteger('a non-negative integer of milliseconds (0 disables)', 0).default(2_000),
  /**
   * Share of requests a shadow model (POST /admin/model/shadow) also scores, 0-1, unless the call names
   * one; a request's id decides. The shadow's inference takes CPU the live workers would use.
   */
  RANKING_SHADOW_SAMPLE: z.coerce
    .number({ error: 'expected a number from 0 to 1' })
    .min(0, { error: 'expected a number from 0 to 1' })
    .max(1, { error: 'expected a number from 0 to 1' })
    .default(0.1),
  /** Inference worker threads of a shadow model, apart from the live model's. */
  RANKING_SHADOW_WORKERS: envInteger('an integer from 1 to 64', 1, 64).default(1),
  /** Shadow scorings queued or running at most; a request beyond it is not shadowed, and counted. */
  RANKING_SHADOW_MAX_PENDING: envInteger('an integer from 1 to 10000', 1, 10_000).default(4),
  /** Shadow records waiting for their add to Redis at most; beyond it they are dropped, and counted. */
  RANKING_SHADOW_MAX_BUFFERED: envInteger('an integer from 1 to 100000', 1, 100_000).default(2_000),
  /** Key prefix of the logging queues in Redis (logging's own value): shadow records are added there. */
  LOGGING_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected 1-64 of [A-Za-z0-9_.-]' })
    .default('adfunnel'),
  /**
   * How long one add of shadow records to Redis may take before it counts as failed (no request waits
   * on it; it only bounds how long records queue behind a stalled Redis).
   */
  RANKING_SHADOW_LOG_TIMEOUT_MS: envInteger('a positive integer of milliseconds', 1).default(10_000),
  /** Calibrate pCTR per model version, surface and bid type on the logged clicks before answering. */
  RANKING_CALIBRATION: z.enum(['on', 'off'], { error: 'expected on or off' }).default('on'),
  RANKING_CALIBRATION_METHOD: z
    .enum(CALIBRATION_METHODS, { error: `expected one of ${CALIBRATION_METHODS.join(', ')}` })
    .default('platt'),
  /** How often the calibrators are refitted from the event store, off the request path. */
  RANKING_CALIBRATION_REFRESH_MS: envInteger('a positive integer of milliseconds', 1_000).default(30_000),
  /** The sliding window they are fitted on, back from now (the funnel's clock). */
  RANKING_CALIBRATION_WINDOW_MS: envInteger('a positive integer of milliseconds', 1).default(3_600_000),
  /** The most recent impressions of the window a fit reads, at most. */
  RANKING_CALIBRATION_MAX_IMPRESSIONS: envInteger('an integer from 1 to 1000000', 1, 1_000_000).default(
    50_000,
  ),
  /** Impressions younger than this are left out: their clicks may still come. */
  RANKING_CALIBRATION_SETTLE_MS: envInteger('a non-negative integer of milliseconds', 0).default(5_000),
  /** A model version's surface (or bid type) with fewer clicks in the window is not calibrated (identity). */
  RANKING_CALIBRATION_MIN_CLICKS: envInteger('a positive integer', 1).default(100),
  /**
   * Platt maps as a hierarchy (version-wide on the identity, surface on version, bid type on surface),
   * each pulled towards its parent by a prior worth this many clicks, examination per surface from
   * all versions; then MIN_CLICKS gates the version's clicks only. 0 (the default): each group
   * fitted alone. The hierarchy serves closer to 1 per surface but lost welfare and revenue in the
   * closed loop (README "Calibration at serve time"), so it is opt-in.
   */
  RANKING_CALIBRATION_PRIOR_CLICKS: envInteger('a non-negative integer of clicks', 0).default(0),
  /**
   * Above 0, each impression of the window counts exp(-age / tau) of one (tau = this / ln 2, its age
   * from the window's end), clicks too, against MIN_CLICKS and the prior's PRIOR_CLICKS alike, so the
   * maps follow a click rate that drifts within the window. 0: every impression counts 1.
   */
  RANKING_CALIBRATION_HALF_LIFE_MS: envInteger('a non-negative integer of milliseconds', 0).default(0),
});

export type RankingConfig = z.output<typeof RankingConfigSchema>;

export function loadRankingConfig(env?: Env): RankingConfig {
  return loadConfig(RankingConfigSchema, env);
}
