import { randomBytes } from 'node:crypto';
import { type FunnelApp, PORT_VARIABLE, SERVICE_APPS } from './funnel-launcher.js';

const PORT_OFFSET: Record<FunnelApp, number> = {
  gateway: 0,
  retrieval: 1,
  ranking: 2,
  auction: 3,
  logging: 4,
  advertiser: 5,
};

export interface IsolatedFunnelOptions {
  /** Names this funnel's bus subjects and bull keys; unique per run. */
  runId: string;
  /** The gateway listens here, the other services on the next five ports (the advertiser API on +5). */
  basePort: number;
  /** Budget of the whole request and of each stage: generous, because these funnels test behaviour, not latency. */
  deadlineMs: number;
  stageTimeoutMs: number;
}

/**
 * The environment of a funnel that shares this machine's NATS and Redis with others (a developer's
 * `npm start`, another test run) without touching them: its own bus namespace, bull, budget and user
 * activity key prefixes and ports, and secrets of its own (a test reads them from the returned env).
 * The caller adds its database and service URLs.
 */
export function isolatedFunnelEnv(options: IsolatedFunnelOptions): Record<string, string> {
  const port = (app: FunnelApp) => String(options.basePort + PORT_OFFSET[app]);
  const stage = String(options.stageTimeoutMs);
  const env: Record<string, string> = {
    BUS_NAMESPACE: options.runId,
    LOGGING_QUEUE_PREFIX: options.runId,
    BUDGET_KEY_PREFIX: options.runId,
    USER_ACTIVITY_KEY_PREFIX: options.runId,
    DELIVERY_KEY_PREFIX: options.runId,
    TRACKING_BASE_URL: `http://127.0.0.1:${port('logging')}`,
    TRACKING_SECRET: randomBytes(32).toString('base64url'),
    ADMIN_TOKEN: randomBytes(32).toString('base64url'),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
    GATEWAY_DEADLINE_MS: String(options.deadlineMs),
    RETRIEVAL_TIMEOUT_MS: stage,
    RANKING_TIMEOUT_MS: stage,
    AUCTION_TIMEOUT_MS: stage,
  };
  for (const app of SERVICE_APPS) env[PORT_VARIABLE[app]] = port(app);
  return env;
}
