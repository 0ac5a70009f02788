import { RouteConfig } from '@nestjs/platform-fastify';

/** The Fastify route config flag the rate-limit hook looks for. */
export const RATE_LIMITED_ROUTE = 'adfunnelRateLimited';

/**
 * Marks a public endpoint: when RATE_LIMIT_PER_MINUTE is set, each client (its IP, and the API key
 * it sends, if any) gets that many requests a minute on it, and is refused with 429 beyond.
 */
export const RateLimited = (): MethodDecorator => RouteConfig({ [RATE_LIMITED_ROUTE]: true });
