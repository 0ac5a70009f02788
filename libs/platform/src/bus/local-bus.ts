import type { CustomTransportStrategy } from '@nestjs/microservices';
import { NatsContext, Server } from '@nestjs/microservices';
import { context, type Tracer } from '@opentelemetry/api';
import { lastValueFrom } from 'rxjs';
import { tracedHandler } from '../tracing/bus-spans.js';
import { busSubject } from './bus.constants.js';

/**
 * Answers one request with what the handler returned, or rejects with what the handler's exception
 * filter made of its error (an ErrorBody, as a NATS reply's `err` would carry).
 */
export type LocalHandler = (data: unknown) => Promise<unknown>;

/**
 * The `@MessagePattern` handlers of the services this process hosts, by bus subject. Filled only by
 * `LocalBusServer`, i.e. when services are co-located in one process (`startService({ localBus })`);
 * `BusClient` then calls a stage in the same process directly instead of through NATS.
 */
class LocalBusRegistry {
  private readonly handlers = new Map<string, LocalHandler>();

  register(subject: string, handler: LocalHandler): void {
    if (this.handlers.has(subject)) {
      throw new Error(`${subject} already has a handler in this process: one co-located service per pattern`);
    }
    this.handlers.set(subject, handler);
  }

  unregister(subject: string, handler: LocalHandler): void {
    if (this.handlers.get(subject) === handler) this.handlers.delete(subject);
  }

  handler(subject: string): LocalHandler | undefined {
    return this.handlers.get(subject);
  }
}

export const localBus = new LocalBusRegistry();

/**
 * A Nest transport with no wire: it registers the app's request handlers (with the app's pipes,
 * interceptors and filters, as `inheritAppConfig` gives them) in the process's `localBus`, each on
 * the subject NATS would carry it on. The handler sees a NatsContext of that subject, so what reads
 * the subject (deadline and rejection counters) reads the same as over NATS. Payloads are passed by
 * reference, not serialized: the handlers' validation pipes parse them into objects of their own.
 * With a tracer, a handler runs in a server span, the child of the caller's (active) client span.
 */
export class LocalBusServer extends Server implements CustomTransportStrategy {
  private readonly registered: [string, LocalHandler][] = [];

  constructor(
    private readonly namespace = '',
    private readonly tracer?: Tracer,
  ) {
    super();
  }

  listen(callback: () => void): void {
    const tracer = this.tracer;
    for (const [pattern, handler] of this.messageHandlers) {
      if (handler.isEventHandler) continue;
      const subject = busSubject(pattern, this.namespace);
      const local: LocalHandler = async (data) => {
        const ctx = new NatsContext([subject, undefined]);
        const invoke = () => handler(data, ctx) as Promise<unknown>;
        const answer =
          tracer === undefined
            ? this.transformToObservable(await invoke())
            : await tracedHandler(tracer, pattern, subject, context.active(), invoke, (result) =>
                this.transformToObservable(result),
              );
        return lastValueFrom(answer, { defaultValue: undefined });
      };
      localBus.register(subject, local);
      this.registered.push([subject, local]);
    }
    callback();
  }

  close(): void {
    for (const [subject, handler] of this.registered.splice(0)) localBus.unregister(subject, handler);
  }

  on(): never {
    throw new Error('the local bus has no events to listen to');
  }

  unwrap<T>(): T {
    throw new Error('the local bus has no underlying client');
  }
}
