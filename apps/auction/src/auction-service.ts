import { QueueGroups } from '@adfunnel/contracts';
import type { RunServiceOptions } from '@adfunnel/platform';
import { type AuctionConfig, loadAuctionConfig } from './config.js';
import { AuctionModule } from './auction.module.js';

/** How auction runs (main.ts), alone or co-located with other services in one process. */
export function auctionServiceOptions(config: AuctionConfig): RunServiceOptions {
  return {
    name: 'auction',
    module: AuctionModule.forRoot(config),
    host: config.AUCTION_HOST,
    port: config.AUCTION_PORT,
    config,
    queueGroup: QueueGroups.auction,
  };
}

/** The same, with the config read from the environment. */
export function serviceFromEnv(): RunServiceOptions {
  return auctionServiceOptions(loadAuctionConfig());
}
