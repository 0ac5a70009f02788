import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';

export interface PreflightProblem {
  dependency: 'Redis' | 'NATS';
  url: string;
  reason: string;
  howToStart: string;
}

/** Checks that the funnel's external dependencies answer, and says how to start the ones that don't. */
export async function preflight(urls: { redisUrl: string; natsUrl: string }): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  const redis = new Redis(urls.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    problems.push({
      dependency: 'Redis',
      url: urls.redisUrl,
      reason: (err as Error).message,
      howToStart:
        `redis-server --daemonize yes --bind 127.0.0.1 --port ${portOf(urls.redisUrl, 6379)} --save "" --appendonly no` +
        '   (or: docker compose -f docker/compose.yml up -d redis)',
    });
  } finally {
    redis.disconnect();
  }
  try {
    const nc = await connect({ servers: urls.natsUrl, timeout: 2000, maxReconnectAttempts: 0 });
    await nc.close();
  } catch (err) {
    problems.push({
      dependency: 'NATS',
      url: urls.natsUrl,
      reason: (err as Error).message,
      howToStart:
        'nats-server -js -a 127.0.0.1 -p 4222 &   (or: docker compose -f docker/compose.yml up -d nats)',
    });
  }
  return problems;
}

function portOf(url: string, fallback: number): number {
  try {
    const port = new URL(url).port;
    return port === '' ? fallback : Number(port);
  } catch {
    return fallback;
  }
}
