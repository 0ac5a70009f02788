import type { FastifyHttpOptions } from 'fastify';
import type { Server } from 'node:http';
import { ConfigError } from '../config/config-error.js';

/** How long a client may take to send a request, how long an idle connection lives, how many may be open. */
export interface HttpServerLimits {
  /** From accepting a connection (or the end of the previous request on it) to the last header line. */
  headersTimeoutMs: number;
  /** From the same start to the last byte of the body; a slower client gets 408 and is disconnected. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long without a new request. */
  keepAliveTimeoutMs: number;
  /** Connections beyond this many are closed as soon as they are accepted. */
  maxConnections: number;
}

/**
 * Headers take a legitimate client milliseconds and bodies are at most 64 KiB, so 10 s and 30 s
 * only ever cut off stalled or hostile clients. 5 s keep-alive is Node's own default (Fastify's 72 s
 * suits a load balancer with a 60 s idle timeout, which a deployment behind one sets). 10,000
 * connections stays below the usual 20,000+ open-file limit, so the cap closes surplus connections
 * before accept() starts failing for everyone.
 */
export const DEFAULT_HTTP_SERVER_LIMITS: HttpServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 10_000,
};

/**
 * Node checks the headers and request timeouts on a timer (30 s by default, which would let a stalled
 * client hold its connection three times the headers timeout); a quarter of the timeout, at most 1 s.
 */
function checkingIntervalMs(limits: HttpServerLimits): number {
  return Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

/** The Fastify and Node server options that enforce the limits (maxConnections is set on the server). */
export function httpServerOptions(limits: HttpServerLimits): FastifyHttpOptions<Server> {
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ConfigError([
      {
        variable: 'HTTP_HEADERS_TIMEOUT_MS',
        problem: `${limits.headersTimeoutMs} is longer than HTTP_REQUEST_TIMEOUT_MS ${limits.requestTimeoutMs}; the headers are part of the request`,
      },
    ]);
  }
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
  };
}
