import { AdfunnelError } from '@adfunnel/contracts';
import type { IncomingMessage } from 'node:http';
import { type DynamicModule, Logger, type LoggerService, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LocalBusServer } from '../bus/local-bus.js';
import { natsServerOptions } from '../bus/nats-server-options.js';
import { natsUnreachableMessage } from '../bus/bus.constants.js';
import type { CommonConfig } from '../config/common-env.js';
import { AllExceptionsFilter } from '../errors/all-exceptions.filter.js';
import { REQUEST_ID_HEADER, resolveRequestId } from '../errors/request-id.js';
import {
  DEFAULT_HTTP_SERVER_LIMITS,
  type HttpServerLimits,
  httpServerOptions,
} from '../http/http-server-limits.js';
import { registerJsonBodyParser } from '../http/json-body.parser.js';
import { installRateLimit } from '../http/rate-limit.hook.js';
import { createAppLogger } from '../logging/create-app-logger.js';
import { installHttpTracing } from '../tracing/http-spans.js';
import { enableTracingFrom, flushTracing, serviceTracer } from '../tracing/tracing.js';

export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'];

/**
 * What the bootstrap reads of a service's validated config (every app schema spreads CommonEnv, so
 * every app passes its HTTP limits); a limit left out takes the CommonEnv default.
 */
export type ServiceRuntimeConfig = Pick<
  CommonConfig,
  'NATS_URL' | 'BUS_NAMESPACE' | 'LOG_FORMAT' | 'LOG_LEVEL'
> &
  Partial<
    Pick<
      CommonConfig,
      | 'HTTP_HEADERS_TIMEOUT_MS'
      | 'HTTP_REQUEST_TIMEOUT_MS'
      | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'
      | 'HTTP_MAX_CONNECTIONS'
      | 'RATE_LIMIT_PER_MINUTE'
      | 'OTEL_EXPORTER_OTLP_ENDPOINT'
      | 'TRACING_SAMPLE_RATIO'
    >
  >;

export interface RunServiceOptions {
  /** Service name, in logs and in the NATS connection name. */
  name: string;
  module: Type<unknown> | DynamicModule;
  /** The app's config: the NATS URL and BUS_NAMESPACE it serves on, and how it logs. */
  config: ServiceRuntimeConfig;
  port: number;
  /** Default 127.0.0.1: only this machine; 0.0.0.0 where other containers must reach it (compose). */
  host?: string;
  /** Also serve the module's `@MessagePattern` handlers over NATS, as one replica of this queue group. */
  queueGroup?: string;
  /**
   * Also register those handlers in this process's local bus, so that a service started in the same
   * process (a co-located funnel) calls them directly instead of through NATS; NATS still serves
   * them to other processes. Only with a queue group.
   */
  localBus?: boolean;
  /** Larger bodies get 400 payload_too_large; bodies are JSON, anything else gets 415. Default 64 KiB. */
  bodyLimitBytes?: number;
  /** Replaces the logger built from the config's LOG_FORMAT and LOG_LEVEL. */
  logger?: LoggerService;
  /** Runs before listen: swagger, CORS, extra Fastify plugins. */
  configureHttp?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * Starts one service: Fastify HTTP with request ids and the error filter, plus (when given a queue
 * group) a NATS microservice whose replicas share the load. SIGTERM/SIGINT drain and exit 0. A
 * service that cannot start (NATS down, a dependency failing at init) logs why and exits 1.
 */
export async function runService(options: RunServiceOptions): Promise<NestFastifyApplication> {
  const logger = loggerFor(options);
  Logger.overrideLogger(logger);
  const log = new Logger('Bootstrap');
  let app: NestFastifyApplication;
  try {
    app = await startService({ ...options, logger });
  } catch (err) {
    log.fatal(
      startFailureMessage(options, err),
      err instanceof AdfunnelError ? undefined : (err as Error)?.stack,
    );
    process.exit(1);
  }
  // Nest closes the app on these signals (NATS unsubscribes, in-flight requests finish, hooks run), then exits 0.
  app.enableShutdownHooks(SHUTDOWN_SIGNALS, { useProcessExit: true });
  for (const signal of SHUTDOWN_SIGNALS) {
    process.once(signal, () =>
      log.log(`${options.name} received ${signal}: finishing in-flight requests, then exiting`),
    );
  }
  return app;
}

/** Like runService, but throws instead of exiting; tests use it to start services in-process. */
export async function startService(options: RunServiceOptions): Promise<NestFastifyApplication> {
  const log = new Logger('Bootstrap');
  const host = options.host ?? '127.0.0.1';
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const limits = httpLimitsOf(options.config);
  const adapter = new FastifyAdapter({
    ...httpServerOptions(limits),
    bodyLimit,
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => resolveRequestId(req.headers[REQUEST_ID_HEADER]),
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  enableTracingFrom(options.config);
  const tracer = serviceTracer(options.name);
  if (tracer !== undefined) {
    installHttpTracing(fastify, tracer);
    fastify.addHook('onClose', flushTracing);
  }
  registerJsonBodyParser(fastify, bodyLimit);
  installRateLimit(fastify, options.config.RATE_LIMIT_PER_MINUTE ?? 0);
  // Node closes a connection beyond the cap as soon as it is accepted, so the client fails fast.
  adapter.getHttpServer().maxConnections = limits.maxConnections;

  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
    logger: loggerFor(options),
    abortOnError: false,
    bodyParser: false,
  });
  try {
    app.useGlobalFilters(new AllExceptionsFilter());
    if (options.configureHttp) await options.configureHttp(app);
    // Run every module's init hooks (catalog load, index build, model warm-up) before subscribing to
    // the bus, so the first request a replica takes from its queue group finds it ready.
    await app.init();
    const { NATS_URL, BUS_NAMESPACE } = options.config;
    if (options.queueGroup !== undefined) {
      app.connectMicroservice(natsServerOptions(NATS_URL, options.queueGroup, BUS_NAMESPACE, tracer), {
        inheritAppConfig: true,
      });
      if (options.localBus === true) {
        app.connectMicroservice(
          { strategy: new LocalBusServer(BUS_NAMESPACE, tracer) },
          { inheritAppConfig: true },
        );
      }
      try {
        await app.startAllMicroservices();
      } catch (err) {
        throw new AdfunnelError('unavailable', natsUnreachableMessage(NATS_URL, err));
      }
      log.log(
        `${options.name} serving NATS in queue group ${options.queueGroup}` +
          (options.localBus === true ? ', and the services of this process directly' : ''),
      );
    }
    await app.listen(options.port, host);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  log.log(`${options.name} listening on http://${host}:${port}`);
  return app;
}

function httpLimitsOf(config: ServiceRuntimeConfig): HttpServerLimits {
  const defaults = DEFAULT_HTTP_SERVER_LIMITS;
  return {
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS ?? defaults.headersTimeoutMs,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS ?? defaults.requestTimeoutMs,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS ?? defaults.keepAliveTimeoutMs,
    maxConnections: config.HTTP_MAX_CONNECTIONS ?? defaults.maxConnections,
  };
}

function loggerFor(options: RunServiceOptions): LoggerService {
  return (
    options.logger ??
    createAppLogger({
      name: options.name,
      format: options.config.LOG_FORMAT,
      level: options.config.LOG_LEVEL,
    })
  );
}

function startFailureMessage(options: RunServiceOptions, err: unknown): string {
  const reason = err instanceof Error ? err.message : String(err);
  return `${options.name} failed to start: ${reason}`;
}
