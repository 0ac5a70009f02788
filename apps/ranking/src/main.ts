import 'reflect-metadata';
import { QueueGroups } from '@adfunnel/contracts';
import { runService } from '@adfunnel/platform';
import { loadRankingConfig } from './config.js';
import { RankingModule } from './ranking.module.js';

const config = loadRankingConfig();
await runService({
  name: 'ranking',
  module: RankingModule.forRoot(config),
  port: config.RANKING_PORT,
  natsUrl: config.NATS_URL,
  queueGroup: QueueGroups.ranking,
  busNamespace: config.BUS_NAMESPACE,
  logFormat: config.LOG_FORMAT,
  logLevel: config.LOG_LEVEL,
});
