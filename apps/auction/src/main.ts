import 'reflect-metadata';
import { QueueGroups } from '@adfunnel/contracts';
import { runService } from '@adfunnel/platform';
import { AuctionModule } from './auction.module.js';
import { loadAuctionConfig } from './config.js';

const config = loadAuctionConfig();
await runService({
  name: 'auction',
  module: AuctionModule.forRoot(config),
  host: config.AUCTION_HOST,
  port: config.AUCTION_PORT,
  config,
  queueGroup: QueueGroups.auction,
});
