import 'reflect-metadata';
import { QueueGroups } from '@adfunnel/contracts';
import { loadConfig, runService } from '@adfunnel/platform';
import { LoggingConfigSchema } from './config.js';
import { LoggingModule } from './logging.module.js';

const config = loadConfig(LoggingConfigSchema);
await runService({
  name: 'logging',
  module: LoggingModule.forRoot(config),
  host: config.LOGGING_HOST,
  port: config.LOGGING_PORT,
  config,
  queueGroup: QueueGroups.logging,
});
