import { Queues, type ServedRecordJob } from '@adfunnel/contracts';
import { APP_CONFIG } from '@adfunnel/platform';
import type { Provider } from '@nestjs/common';
import Bull from 'bull';
import { Redis } from 'ioredis';
import type { GatewayConfig } from '../config.js';

/** The producer side of logging's `Queues.served` (bull, in Redis); `client` is its one connection. */
export type ServedQueue = Bull.Queue<ServedRecordJob>;
export const SERVED_QUEUE = Symbol('SERVED_QUEUE');

/**
 * No offline queue: a write Redis cannot take now fails now, instead of landing later for an answer
 * that already went out without its ads. The command timeout is the writer's give-up time: a command
 * that times out may still have run, so the writer decides by the served outcome in Redis instead.
 * Connected by the writer at start-up.
 */
export function createServedQueue(config: GatewayConfig): ServedQueue {
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: config.SERVED_RECORD_GIVE_UP_MS,
    connectionName: 'adfunnel-gateway-served',
  });
  return new Bull<ServedRecordJob>(Queues.served, {
    prefix: config.LOGGING_QUEUE_PREFIX,
    createClient: (type) => {
      if (type === 'client') return redis;
      throw new Error(`the gateway only adds served jobs; bull asked for a ${type} connection`);
    },
  });
}

export const servedQueueProvider: Provider = {
  provide: SERVED_QUEUE,
  useFactory: createServedQueue,
  inject: [APP_CONFIG],
};
