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
});

export type RankingConfig = z.output<typeof RankingConfigSchema>;

export function loadRankingConfig(env?: Env): RankingConfig {
  return loadConfig(RankingConfigSchema, env);
}
