import { BudgetEnv } from '@adfunnel/budget';
import { DEFAULT_PERSIST_JOB_ATTEMPTS } from '@adfunnel/contracts';
import { CommonEnv, envInteger, envPort } from '@adfunnel/platform';
import {
  refuseWeakTrackingSecretInProduction,
  TrackingPreviousSecretsEnv,
  TrackingSecretEnv,
} from '@adfunnel/tracking';
import { DeliveryEnv } from '@adfunnel/delivery-diagnostics';
import { UserActivityEnv } from '@adfunnel/user-activity';
import { z } from 'zod';
import { DashboardEnv } from './dashboard/dashboard-env.js';

export const LoggingConfigSchema = z
  .object({
    ...CommonEnv,
    NODE_ENV: z.string().default('development'),
    LOGGING_HOST: z.string().min(1).default('127.0.0.1'),
    LOGGING_PORT: envPort(3104),
    ...TrackingSecretEnv,
    ...TrackingPreviousSecretsEnv,
    LOGGING_QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected 1-64 of [A-Za-z0-9_.-]' })
      .default('adfunnel'),
    LOGGING_CONCURRENCY: envInteger('a positive integer', 1)
      .max(256, { error: 'expected at most 256' })
      .default(8),
    LOGGING_ENQUEUE_TIMEOUT_MS: envInteger('a positive integer of milliseconds', 1).default(2000),
    ...BudgetEnv,
    ...UserActivityEnv,
    ...DashboardEnv,
    ...DeliveryEnv,
    /** Older name of ADMIN_TOKEN for reports over every advertiser; either token is accepted. */
    REPORTS_ADMIN_TOKEN: z.string().min(24, { error: 'must be at least 24 characters' }).optional(),
    /** How often the serve-time budget state is republished from the ledger. */
    BUDGET_REBUILD_MS: envInteger('a positive integer of milliseconds', 100).default(60_000),
    LOGGING_JOB_ATTEMPTS: envInteger('a positive integer', 1)
      .max(100, { error: 'expected at most 100' })
      .default(DEFAULT_PERSIST_JOB_ATTEMPTS),
    /**
     * How long the jobs a dead worker held stay locked before a live one takes them up again (bull's
     * lockDuration and stalledInterval): a worker renews its locks every half of it.
     */
    LOGGING_STALLED_MS: envInteger('an integer of milliseconds from 1000', 1000).default(30_000),
  })
  .superRefine(refuseWeakTrackingSecretInProduction);

export type LoggingConfig = z.output<typeof LoggingConfigSchema>;
