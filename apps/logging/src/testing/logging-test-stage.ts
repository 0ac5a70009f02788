import { QueueGroups } from '@adfunnel/contracts';
import { parseConfig } from '@adfunnel/platform';
import { TEST_REDIS_URL, type TestStage, startTestStage } from '@adfunnel/testing';
import { LoggingConfigSchema } from '../config.js';
import { LoggingModule } from '../logging.module.js';

/**
 * The logging app in-process on this machine's Redis, its queues, budget and user activity keys under `prefix`, with
 * `env` (the database, TRACKING_SECRET, ...) on top of the stage's own.
 */
export function startLoggingStage(prefix: string, env: Record<string, string>): Promise<TestStage> {
  return startTestStage({
    name: 'logging',
    queueGroup: QueueGroups.logging,
    module: (stageEnv) =>
      LoggingModule.forRoot(
        parseConfig(LoggingConfigSchema, {
          ...stageEnv,
          ...env,
          REDIS_URL: TEST_REDIS_URL,
          LOGGING_QUEUE_PREFIX: prefix,
          BUDGET_KEY_PREFIX: prefix,
          USER_ACTIVITY_KEY_PREFIX: prefix,
        }),
      ),
  });
}
