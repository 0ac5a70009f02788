import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { RateLimitedError } from '../errors/rate-limited.error.js';
import { RATE_LIMITED_ROUTE } from './rate-limited.decorator.js';
import { RateLimiter } from './rate-limiter.js';

const SWEEP_EVERY_MS = 60_000;

/**
 * Counts requests to `@RateLimited()` routes per client before their body is read, and refuses the
 * ones over `perMinute` with 429. 0 turns it off. Each route has its own budget. The hook is attached
 * to those routes as they are registered, so other routes do no rate-limit work at all.
 */
export function installRateLimit(instance: FastifyInstance, perMinute: number): void {
  if (perMinute <= 0) return;
  const limiter = new RateLimiter(perMinute);
  const sweeper = setInterval(() => limiter.sweep(Date.now()), SWEEP_EVERY_MS).unref();
  instance.addHook('onClose', (_instance, done) => {
    clearInterval(sweeper);
    done();
  });
  instance.addHook('onRoute', (routeOptions) => {
    const config = routeOptions.config as unknown as Record<string, unknown> | undefined;
    if (config?.[RATE_LIMITED_ROUTE] !== true) return;
    const hook = rateLimitHook(limiter, routeOptions.url);
    // A new array: Fastify's implicit HEAD route starts from a shallow copy of these options.
    const existing = routeOptions.onRequest;
    routeOptions.onRequest =
      existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
  });
}

function rateLimitHook(limiter: RateLimiter, url: string): onRequestHookHandler {
  return (request, _reply, done) => {
    const route = `${request.method} ${url}`;
    const apiKey = apiKeyOf(request);
    const keys = [`${route} ip ${request.ip}`];
    if (apiKey !== undefined) keys.push(`${route} key ${apiKey}`);
    const decision = limiter.take(keys, Date.now());
    if (decision.allowed) {
      done();
      return;
    }
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    const who = decision.blocked.includes(0) ? `from ${request.ip}` : 'with this API key';
    done(
      new RateLimitedError(
        `too many requests to ${route} ${who}: the limit is ${limiter.perMinute} a minute; retry in ${seconds} s`,
        seconds,
      ),
    );
  };
}

/** A digest, so the limiter does not keep API keys in memory. */
function apiKeyOf(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization === undefined || authorization.length === 0) return undefined;
  return createHash('sha256').update(authorization).digest('base64url').slice(0, 22);
}
