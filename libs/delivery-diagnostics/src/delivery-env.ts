import { envInteger } from '@adfunnel/platform';
import { z } from 'zod';

export const DELIVERY_DEFAULTS = {
  keyPrefix: 'adfunnel',
  flushMs: 5_000,
  retentionMinutes: 60,
  /** The longest window a reader may ask for, and so the most a retention can be set to: a day. */
  maxRetentionMinutes: 1_440,
} as const;

/**
 * The variables of every service that counts delivery (gateway, retrieval, auction, logging) and of
 * the one that reads the counts (logging), spread into its config schema.
 */
export const DeliveryEnv = {
  /** Keys live under `<prefix>:delivery:`; one value per funnel, like BUDGET_KEY_PREFIX. */
  DELIVERY_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected 1 to 64 of [A-Za-z0-9_-]' })
    .default(DELIVERY_DEFAULTS.keyPrefix),
  /** How often a service writes the counts it holds in memory to Redis. */
  DELIVERY_FLUSH_MS: envInteger('an integer of milliseconds from 100 to 60000', 100, 60_000).default(
    DELIVERY_DEFAULTS.flushMs,
  ),
  /** How long a minute's counts are kept, and so the longest window the diagnostics can cover. */
  DELIVERY_RETENTION_MINUTES: envInteger(
    `a whole number of minutes from 1 to ${DELIVERY_DEFAULTS.maxRetentionMinutes}`,
    1,
    DELIVERY_DEFAULTS.maxRetentionMinutes,
  ).default(DELIVERY_DEFAULTS.retentionMinutes),
};

export type DeliveryConfig = z.output<z.ZodObject<typeof DeliveryEnv>>;
