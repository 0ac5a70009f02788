import 'reflect-metadata';
import { QueueGroups } from '@adfunnel/contracts';
import { runService } from '@adfunnel/platform';
import { loadRetrievalConfig } from './config.js';
import { RetrievalModule } from './retrieval.module.js';

const config = loadRetrievalConfig();
await runService({
  name: 'retrieval',
  module: RetrievalModule.forRoot(config),
  host: config.RETRIEVAL_HOST,
  port: config.RETRIEVAL_PORT,
  config,
  queueGroup: QueueGroups.retrieval,
});
