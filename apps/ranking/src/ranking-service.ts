import { QueueGroups } from '@adfunnel/contracts';
import type { RunServiceOptions } from '@adfunnel/platform';
import { type RankingConfig, loadRankingConfig } from './config.js';
import { RankingModule } from './ranking.module.js';

/** How ranking runs (main.ts), alone or co-located with other services in one process. */
export function rankingServiceOptions(config: RankingConfig): RunServiceOptions {
  return {
    name: 'ranking',
    module: RankingModule.forRoot(config),
    host: config.RANKING_HOST,
    port: config.RANKING_PORT,
    config,
    queueGroup: QueueGroups.ranking,
  };
}

/** The same, with the config read from the environment. */
export function serviceFromEnv(): RunServiceOptions {
  return rankingServiceOptions(loadRankingConfig());
}
