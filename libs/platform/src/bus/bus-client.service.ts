import {
  AdfunnelError,
  type ErrorCode,
  isErrorBody,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
} from '@adfunnel/contracts';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { ClientNats } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Tracer } from '@opentelemetry/api';
import type { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { Subscription } from 'rxjs';
import {
  BUS_OPTIONS,
  type BusModuleOptions,
  type CallOptions,
  natsUnreachableMessage,
  busSubject,
} from './bus.constants.js';
import { redactUrlCredentials } from '../config/redact-url.js';
import { localBus, type LocalHandler } from './local-bus.js';
import { natsConnectionOptions } from './nats-connection.js';
import { RemoteCallError } from './remote-call.error.js';
import { BusMetrics, busOutcomeOf } from '../metrics/bus-metrics.js';
import { traceHeaders, tracedCall } from '../tracing/bus-spans.js';
import { serviceTracer } from '../tracing/tracing.js';

const CONNECT_TIMEOUT_MS = 5000;

@Injectable()
export class BusClient implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(BusClient.name);
  private readonly client: ClientNats;
  private connected = false;
  private sequence = 0;
  private readonly idPrefix = `${randomUUID().slice(0, 8)}-`;
  private statusSubscription: Subscription | undefined;
  /** This service's tracer when tracing is on: each call is a client span, carried in the NATS headers. */
  private readonly tracer: Tracer | undefined;

  constructor(
    @Inject(BUS_OPTIONS) private readonly options: BusModuleOptions,
    /** Counts and times every call by pattern and outcome; absent outside a service (tools, tests). */
    @Optional() private readonly metrics?: BusMetrics,
  ) {
    this.client = new ClientNats({
      ...natsConnectionOptions(options.natsUrl),
      name: options.name ?? 'adfunnel',
      timeout: CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
    this.tracer = serviceTracer(options.name ?? 'adfunnel');
  }

  async onModuleInit(): Promise<void> {
    this.statusSubscription = this.client.status.subscribe((status) => {
      // NatsStatus is an ambient const enum, which isolatedModules cannot reference.
      this.connected = String(status) === 'connected';
    });
    try {
      await this.client.connect();
    } catch (err) {
      throw new AdfunnelError('unavailable', natsUnreachableMessage(this.options.natsUrl, err));
    }
    this.logger.log(`connected to NATS at ${redactUrlCredentials(this.options.natsUrl)}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.statusSubscription?.unsubscribe();
    this.connected = false;
    await this.client.close();
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Round trip to the NATS server in ms; rejects when not connected. */
  async rtt(): Promise<number> {
    if (!this.connected)
      throw new AdfunnelError(
        'unavailable',
        `not connected to NATS at ${redactUrlCredentials(this.options.natsUrl)}`,
      );
    return this.client.unwrap<NatsConnection>().rtt();
  }

  /**
   * One request-reply. It goes through the connection's shared reply subscription (`nc.request`),
   * not Nest's ClientNats, which subscribes and unsubscribes a fresh inbox for every call: that
   * churn cost more CPU in nats-server than the whole stage it was calling. The wire format is
   * Nest's, so the services' `@MessagePattern` handlers answer as usual.
   */
  async call<C extends RpcContract<z.ZodType, z.ZodType>>(
    contract: C,
    payload: RpcRequest<C>,
    opts: CallOptions = {},
  ): Promise<RpcResponse<C>> {
    if (this.tracer !== undefined) {
      const subject = busSubject(contract.pattern, this.options.namespace);
      return tracedCall(this.tracer, contract.pattern, subject, () => this.measured(contract, payload, opts));
    }
    return this.measured(contract, payload, opts);
  }

  private async measured<C extends RpcContract<z.ZodType, z.ZodType>>(
    contract: C,
    payload: RpcRequest<C>,
    opts: CallOptions,
  ): Promise<RpcResponse<C>> {
    if (this.metrics === undefined) return this.request(contract, payload, opts);
    const started = performance.now();
    const metrics = this.metrics.caller(contract.pattern);
    try {
      const response = await this.request(contract, payload, opts);
      metrics.record('ok', started);
      return response;
    } catch (err) {
      metrics.record(busOutcomeOf(err), started);
      throw err;
    }
  }

  private async request<C extends RpcContract<z.ZodType, z.ZodType>>(
    contract: C,
    payload: RpcRequest<C>,
    opts: CallOptions,
  ): Promise<RpcResponse<C>> {
    const pattern = contract.pattern;
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs;
    const subject = busSubject(pattern, this.options.namespace);
    const local = this.options.local === false ? undefined : localBus.handler(subject);
    if (local !== undefined)
      return this.callLocal(local, pattern, payload, timeoutMs) as Promise<RpcResponse<C>>;
    let nc: NatsConnection;
    try {
      nc = this.client.unwrap<NatsConnection>();
    } catch (err) {
      throw this.toCallError(pattern, err);
    }
    const packet = JSON.stringify({ pattern, data: payload, id: `${this.idPrefix}${++this.sequence}` });
    let reply: NestReply<RpcResponse<C>>;
    try {
      const msg = await nc.request(subject, packet, {
        timeout: timeoutMs,
        ...(this.tracer === undefined ? {} : { headers: traceHeaders() }),
      });
      reply = msg.json<NestReply<RpcResponse<C>>>();
    } catch (err) {
      if (isTimeout(err)) {
        throw new AdfunnelError('timeout', `${pattern} did not answer within ${timeoutMs} ms`);
      }
      throw this.toCallError(pattern, err);
    }
    if (reply.err !== undefined && reply.err !== null) throw this.toCallError(pattern, reply.err);
    return reply.response as RpcResponse<C>;
  }

  /**
   * A stage co-located in this process: its handler runs here, through the same pipes, interceptors
   * and filter as over NATS, with the same timeout and the same errors, but without serializing the
   * payload or a round trip through nats-server.
   */
  private async callLocal(
    handler: LocalHandler,
    pattern: string,
    payload: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AdfunnelError('timeout', `${pattern} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([handler(payload), timedOut]);
    } catch (err) {
      throw this.toCallError(pattern, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private toCallError(pattern: string, err: unknown): AdfunnelError {
    if (err instanceof AdfunnelError) return err;
    if (isErrorBody(err)) {
      const reason = typeof err.reason === 'string' ? err.reason : undefined;
      return new RemoteCallError(pattern, err.code, err.message, reason);
    }
    if (isNoResponders(err)) {
      return new AdfunnelError('unavailable', `no service is listening on ${pattern}`);
    }
    if (isObject(err) && typeof err['message'] === 'string' && !(err instanceof Error)) {
      // A Nest handler that failed outside our filter answers { status: 'error', message }.
      return new RemoteCallError(pattern, 'internal', err['message']);
    }
    const reason = err instanceof Error ? err.message : String(err);
    const code: ErrorCode = isConnectionProblem(reason) ? 'unavailable' : 'internal';
    return new AdfunnelError(code, `${pattern} call failed: ${reason}`);
  }
}

/** What a Nest NATS server publishes to the reply subject. */
interface NestReply<T> {
  id?: string;
  response?: T;
  err?: unknown;
  isDisposed?: boolean;
}

function isTimeout(err: unknown): boolean {
  return (
    isObject(err) &&
    (err['name'] === 'TimeoutError' || err['code'] === 'TIMEOUT' || /timeout/i.test(String(err['message'])))
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Nest's EmptyResponseException (not exported) or a NATS 503 status: nobody subscribes to the subject. */
function isNoResponders(err: unknown): boolean {
  if (!isObject(err)) return false;
  const message = typeof err['message'] === 'string' ? err['message'] : '';
  return err['code'] === '503' || /no responders|there are no subscribers/i.test(message);
}

function isConnectionProblem(reason: string): boolean {
  return /connection (lost|closed)|disconnect|not initialized|reconnect/i.test(reason);
}
