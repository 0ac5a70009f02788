import { QueueGroups } from '@adfunnel/contracts';
import type { RunServiceOptions } from '@adfunnel/platform';
import { loadConfig } from '@adfunnel/platform';
import { type LoggingConfig, LoggingConfigSchema } from './config.js';
import { LoggingModule } from './logging.module.js';

/** How logging runs (main.ts), alone or co-located with other services in one process. */
export function loggingServiceOptions(config: LoggingConfig): RunServiceOptions {
  return {
    name: 'logging',
    module: LoggingModule.forRoot(config),
    host: config.LOGGING_HOST,
    port: config.LOGGING_PORT,
    config,
    queueGroup: QueueGroups.logging,
  };
}

/** The same, with the config read from the environment. */
export function serviceFromEnv(): RunServiceOptions {
  return loggingServiceOptions(loadConfig(LoggingConfigSchema));
}
