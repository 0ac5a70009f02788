import { envInteger } from '@adfunnel/platform';
import { z } from 'zod';

/** The two-tower model's variables, spread into RetrievalConfigSchema. */
export const TwoTowerEnv = {
  /** Where `<RETRIEVAL_MODEL>/current` is looked up (the ranking service reads the same directory). */
  MODELS_DIR: z.string().min(1).default('models'),
  /** Model under MODELS_DIR whose `current` names the two-tower version to serve. */
  RETRIEVAL_MODEL: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, { error: 'must be a directory name under MODELS_DIR' })
    .default('retrieval'),
  /**
   * `auto`: serve the personalized candidates with the two-tower model when MODELS_DIR/RETRIEVAL_MODEL/
   * current names one that loads, the activity heuristic otherwise; `off`: always the heuristic.
   */
  RETRIEVAL_TWO_TOWER: z.enum(['auto', 'off'], { error: 'expected auto or off' }).default('auto'),
  /** How often `current` is polled for a new version (beside fs.watch); 0 turns the watch off. */
  RETRIEVAL_MODEL_WATCH_MS: envInteger('a non-negative integer of milliseconds (0 disables)', 0).default(
    2_000,
  ),
};

export interface TwoTowerConfig {
  MODELS_DIR: string;
  RETRIEVAL_MODEL: string;
  RETRIEVAL_TWO_TOWER: 'auto' | 'off';
  RETRIEVAL_MODEL_WATCH_MS: number;
  RETRIEVAL_EF_SEARCH: number;
  RETRIEVAL_EXACT_THRESHOLD: number;
}
