import { InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { LoggingConfig } from '../config.js';
import { type MetricsTarget, metricsTargets } from './dashboard-env.js';
import { type MetricSample, parseMetricSamples } from './prometheus-text.js';

export type ServiceScrape =
  | {
      readonly service: string;
      readonly url: string;
      readonly available: true;
      readonly samples: MetricSample[];
    }
  | { readonly service: string; readonly url: string; readonly available: false; readonly error: string };

/** Reads the services' /metrics for the dashboard; a service that does not answer is unavailable. */
@Injectable()
export class MetricsScraper {
  private readonly logger = new Logger(MetricsScraper.name);
  private readonly targets: readonly MetricsTarget[];
  private readonly timeoutMs: number;
  private readonly token: string | undefined;

  constructor(@InjectConfig() config: LoggingConfig) {
    this.targets = metricsTargets(config);
    this.timeoutMs = config.DASHBOARD_SCRAPE_TIMEOUT_MS;
    this.token = config.METRICS_TOKEN;
  }

  scrapeAll(): Promise<ServiceScrape[]> {
    return Promise.all(this.targets.map((target) => this.scrape(target)));
  }

  private async scrape({ service, url }: MetricsTarget): Promise<ServiceScrape> {
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: this.token === undefined ? {} : { authorization: `Bearer ${this.token}` },
      });
      if (!res.ok) {
        await res.body?.cancel();
        return { service, url, available: false, error: `answered ${res.status}` };
      }
      return { service, url, available: true, samples: parseMetricSamples(await res.text()) };
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError' ? `no answer in ${this.timeoutMs} ms` : 'unreachable';
      this.logger.debug(`metrics of ${service} at ${url}: ${reason} (${(error as Error).message})`);
      return { service, url, available: false, error: reason };
    }
  }
}
