import { BudgetRedis, BudgetStore, FrequencyCapStore } from '@adfunnel/budget';
import { APP_CONFIG, RedisProbe } from '@adfunnel/platform';
import { Logger, Module } from '@nestjs/common';
import type { RetrievalConfig } from '../config.js';
import { BudgetStateMetrics } from './budget-state-metrics.js';
import { BudgetStateProbe } from './budget-state.probe.js';
import { ExhaustedCampaignsService } from './exhausted-campaigns.service.js';
import { ServingExclusionsService } from './serving-exclusions.service.js';

/**
 * What retrieval reads from the shared budget state: the campaigns that have spent today's budget
 * (kept in memory, refreshed every BUDGET_REFRESH_MS) and the user's frequency caps (read per request).
 */
@Module({
  providers: [
    {
      provide: BudgetRedis,
      inject: [APP_CONFIG],
      useFactory: (config: RetrievalConfig) => {
        const logger = new Logger(BudgetRedis.name);
        return new BudgetRedis(config.REDIS_URL, {
          name: 'adfunnel-retrieval-budget',
          commandTimeoutMs: config.BUDGET_REDIS_TIMEOUT_MS,
          onError: (message) => logger.warn(`budget state connection: ${message}`),
        });
      },
    },
    {
      provide: BudgetStore,
      inject: [BudgetRedis, APP_CONFIG],
      useFactory: (redis: BudgetRedis, config: RetrievalConfig) =>
        new BudgetStore(redis.client, config.BUDGET_KEY_PREFIX),
    },
    {
      provide: FrequencyCapStore,
      inject: [BudgetRedis, APP_CONFIG],
      useFactory: (redis: BudgetRedis, config: RetrievalConfig) =>
        new FrequencyCapStore(redis.client, config.BUDGET_KEY_PREFIX),
    },
    ExhaustedCampaignsService,
    ServingExclusionsService,
    BudgetStateProbe,
    BudgetStateMetrics,
    RedisProbe,
  ],
  exports: [ServingExclusionsService, ExhaustedCampaignsService],
})
export class BudgetStateModule {}
