import { QueueGroups } from '@adfunnel/contracts';
import type { RunServiceOptions } from '@adfunnel/platform';
import { type RetrievalConfig, loadRetrievalConfig } from './config.js';
import { RetrievalModule } from './retrieval.module.js';

/** How retrieval runs (main.ts), alone or co-located with other services in one process. */
export function retrievalServiceOptions(config: RetrievalConfig): RunServiceOptions {
  return {
    name: 'retrieval',
    module: RetrievalModule.forRoot(config),
    host: config.RETRIEVAL_HOST,
    port: config.RETRIEVAL_PORT,
    config,
    queueGroup: QueueGroups.retrieval,
  };
}

/** The same, with the config read from the environment. */
export function serviceFromEnv(): RunServiceOptions {
  return retrievalServiceOptions(loadRetrievalConfig());
}
