import 'reflect-metadata';
import { QueueGroups } from '@adfunnel/contracts';
import { runService } from '@adfunnel/platform';
import { loadRankingConfig } from './config.js';
import { RankingModule } from './ranking.module.js';

const config = loadRankingConfig();
await runService({
  name: 'ranking',
  module: RankingModule.forRoot(config),
  host: config.RANKING_HOST,
  port: config.RANKING_PORT,
  config,
  queueGroup: QueueGroups.ranking,
});
