import { BudgetRedis, BudgetStore, FrequencyCapStore } from '@adfunnel/budget';
import { APP_CONFIG, RedisProbe } from '@adfunnel/platform';
import { Logger, Module } from '@nestjs/common';
import type { AuctionConfig } from '../config.js';
import { BudgetMetrics } from './budget-metrics.js';
import { UserExposureService } from './user-exposure.service.js';
import { WinnerAdmissionService } from './winner-admission.service.js';

/**
 * The auction's side of the shared budget state: it reserves budget for winners, counts their serves
 * and reads the user's ad exposure.
 */
@Module({
  providers: [
    {
      provide: BudgetRedis,
      inject: [APP_CONFIG],
      useFactory: (config: AuctionConfig) => {
        const logger = new Logger(BudgetRedis.name);
        return new BudgetRedis(config.REDIS_URL, {
          name: 'adfunnel-auction-budget',
          commandTimeoutMs: config.BUDGET_REDIS_TIMEOUT_MS,
          onError: (message) => logger.warn(`budget state connection: ${message}`),
        });
      },
    },
    {
      provide: BudgetStore,
      inject: [BudgetRedis, APP_CONFIG],
      useFactory: (redis: BudgetRedis, config: AuctionConfig) =>
        new BudgetStore(redis.client, config.BUDGET_KEY_PREFIX),
    },
    {
      provide: FrequencyCapStore,
      inject: [BudgetRedis, APP_CONFIG],
      useFactory: (redis: BudgetRedis, config: AuctionConfig) =>
        new FrequencyCapStore(redis.client, config.BUDGET_KEY_PREFIX),
    },
    WinnerAdmissionService,
    BudgetMetrics,
    UserExposureService,
    RedisProbe,
  ],
  exports: [WinnerAdmissionService, UserExposureService, BudgetRedis, BudgetStore],
})
export class BudgetModule {}
