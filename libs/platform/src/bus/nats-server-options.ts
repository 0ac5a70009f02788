import type { MessageHandler, MicroserviceOptions, NatsContext, NatsOptions } from '@nestjs/microservices';
import { ServerNats } from '@nestjs/microservices';
import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { Tracer } from '@opentelemetry/api';
import { natsHeaderGetter, tracedHandler } from '../tracing/bus-spans.js';
import { extractTraceContext } from '../tracing/tracing.js';
import { busSubject } from './bus.constants.js';
import { natsConnectionOptions } from './nats-connection.js';

/**
 * Nest's NATS server, subscribing each `@MessagePattern` on its subject within the bus namespace
 * (`<namespace>.<pattern>`); the handler is still found by its plain pattern. With a tracer, each
 * request runs in a server span, the child of the caller's span named in the message's headers
 * (Nest's transport reads no trace context itself).
 */
export class NamespacedServerNats extends ServerNats {
  private readonly namespacedSubscriptions: { unsubscribe(): void }[] = [];
  private readonly tracedHandlers = new Map<string, MessageHandler>();

  constructor(
    private readonly natsOptions: NonNullable<NatsOptions['options']>,
    private readonly namespace: string,
    private readonly tracer?: Tracer,
  ) {
    super(natsOptions);
  }

  override getHandlerByPattern(pattern: string): MessageHandler | null {
    const handler = super.getHandlerByPattern(pattern);
    const tracer = this.tracer;
    if (handler === null || tracer === undefined || handler.isEventHandler) return handler;
    let traced = this.tracedHandlers.get(pattern);
    if (traced === undefined) {
      traced = ((data: unknown, ctx: NatsContext) =>
        tracedHandler(
          tracer,
          pattern,
          ctx.getSubject(),
          extractTraceContext(ctx.getHeaders() as MsgHdrs | undefined, natsHeaderGetter),
          () => handler(data, ctx),
          (result) => this.transformToObservable(result),
        )) as MessageHandler;
      this.tracedHandlers.set(pattern, traced);
    }
    return traced;
  }

  override bindEvents(client: NatsConnection): void {
    for (const [pattern, handlerRef] of this.messageHandlers) {
      const extras = handlerRef.extras as { queue?: string } | undefined;
      const queue = extras?.queue ?? this.natsOptions.queue;
      const callback = this.getMessageHandler(pattern).bind(this) as (err: Error | null, msg: Msg) => void;
      this.namespacedSubscriptions.push(
        client.subscribe(busSubject(pattern, this.namespace), {
          ...(queue === undefined ? {} : { queue }),
          callback,
        }),
      );
    }
  }

  /** Unsubscribe first, so the grace period of the base close only finishes requests already taken. */
  override async close(): Promise<void> {
    for (const subscription of this.namespacedSubscriptions.splice(0)) subscription.unsubscribe();
    await super.close();
  }
}

/**
 * Options for `app.connectMicroservice`: every replica subscribes in `queueGroup`, so NATS hands
 * each request to one of them. On shutdown the server unsubscribes first and closes after a grace
 * period, so requests already delivered still get their answer. Credentials in the URL
 * (`nats://user:password@host`) log the server in as that user.
 */
export function natsServerOptions(
  natsUrl: string,
  queueGroup: string,
  namespace = '',
  tracer?: Tracer,
): MicroserviceOptions {
  return {
    strategy: new NamespacedServerNats(
      {
        ...natsConnectionOptions(natsUrl),
        queue: queueGroup,
        name: queueGroup,
        gracefulShutdown: true,
        gracePeriod: 1000,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
      },
      namespace,
      tracer,
    ),
  };
}
