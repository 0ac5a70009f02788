import { envInteger, envPort } from '@adfunnel/platform';
import { z } from 'zod';

const TARGET = /^([a-z][a-z0-9_-]{0,31})=(https?:\/\/\S+)$/;

export interface MetricsTarget {
  readonly service: string;
  readonly url: string;
}

/**
 * The dashboard's variables in logging's config. The stages' ports are those the launcher gives
 * every service; they only make the default of DASHBOARD_METRICS_URLS.
 */
export const DashboardEnv = {
  GATEWAY_PORT: envPort(3100),
  RETRIEVAL_PORT: envPort(3101),
  RANKING_PORT: envPort(3102),
  AUCTION_PORT: envPort(3103),
  /** `service=url` pairs, comma separated: the /metrics the latency panel scrapes. */
  DASHBOARD_METRICS_URLS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const targets: MetricsTarget[] = [];
      for (const entry of value.split(',')) {
        const match = TARGET.exec(entry.trim());
        if (match === null) {
          ctx.addIssue({
            code: 'custom',
            message: `expected service=http(s)://host:port/metrics pairs separated by commas; got "${entry.trim()}"`,
          });
          return z.NEVER;
        }
        targets.push({ service: match[1], url: match[2] });
      }
      return targets;
    }),
  /** A service whose /metrics has not answered by then is shown as unavailable. */
  DASHBOARD_SCRAPE_TIMEOUT_MS: envInteger(
    'an integer of milliseconds from 100 to 30000',
    100,
    30_000,
  ).default(1500),
  /** Where the built front end (apps/dashboard) is; by default found beside this app in the repository. */
  DASHBOARD_DIR: z.string().min(1).optional(),
};

interface TargetConfig {
  readonly DASHBOARD_METRICS_URLS?: readonly MetricsTarget[] | undefined;
  readonly GATEWAY_PORT: number;
  readonly RETRIEVAL_PORT: number;
  readonly RANKING_PORT: number;
  readonly AUCTION_PORT: number;
  readonly LOGGING_PORT: number;
}

/** What the latency panel scrapes: DASHBOARD_METRICS_URLS, else the five services on this machine. */
export function metricsTargets(config: TargetConfig): readonly MetricsTarget[] {
  if (config.DASHBOARD_METRICS_URLS !== undefined) return config.DASHBOARD_METRICS_URLS;
  const local = (service: string, port: number) => ({ service, url: `http://127.0.0.1:${port}/metrics` });
  return [
    local('gateway', config.GATEWAY_PORT),
    local('retrieval', config.RETRIEVAL_PORT),
    local('ranking', config.RANKING_PORT),
    local('auction', config.AUCTION_PORT),
    local('logging', config.LOGGING_PORT),
  ];
}
