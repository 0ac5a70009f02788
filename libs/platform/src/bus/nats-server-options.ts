import { type MicroserviceOptions, Transport } from '@nestjs/microservices';

/**
 * Options for `app.connectMicroservice`: every replica subscribes in `queueGroup`, so NATS hands
 * each request to one of them. On shutdown the server unsubscribes first and closes after a grace
 * period, so requests already delivered still get their answer.
 */
export function natsServerOptions(natsUrl: string, queueGroup: string): MicroserviceOptions {
  return {
    transport: Transport.NATS,
    options: {
      servers: natsUrl,
      queue: queueGroup,
      name: queueGroup,
      gracefulShutdown: true,
      gracePeriod: 1000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    },
  };
}
