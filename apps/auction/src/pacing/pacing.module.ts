import { BudgetRedis, PacingStore } from '@adfunnel/budget';
import { APP_CONFIG } from '@adfunnel/platform';
import { Module } from '@nestjs/common';
import { BudgetModule } from '../budget/budget.module.js';
import type { AuctionConfig } from '../config.js';
import { PacingProbe } from './pacing.probe.js';
import { PacingService } from './pacing.service.js';

/** Even pacing: the pass-through rates the replicas share through Redis. */
@Module({
  imports: [BudgetModule],
  providers: [
    {
      provide: PacingStore,
      inject: [BudgetRedis, APP_CONFIG],
      useFactory: (redis: BudgetRedis, config: AuctionConfig) =>
        new PacingStore(redis.client, config.BUDGET_KEY_PREFIX),
    },
    PacingService,
    PacingProbe,
  ],
  exports: [PacingService],
})
export class PacingModule {}
