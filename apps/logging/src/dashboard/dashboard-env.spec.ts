import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '@adfunnel/platform';
import { LoggingConfigSchema } from '../config.js';
import { metricsTargets } from './dashboard-env.js';

describe('the dashboard config', () => {
  const sut = (env: Record<string, string>) =>
    parseConfig(LoggingConfigSchema, {
      TRACKING_SECRET: 'a-private-secret-of-forty-characters-long',
      ...env,
    });

  it('scrapes the five services on this machine by default, on the ports the launcher gives them', () => {
    expect(metricsTargets(sut({ GATEWAY_PORT: '4100', LOGGING_PORT: '4104' }))).toEqual([
      { service: 'gateway', url: 'http://127.0.0.1:4100/metrics' },
      { service: 'retrieval', url: 'http://127.0.0.1:3101/metrics' },
      { service: 'ranking', url: 'http://127.0.0.1:3102/metrics' },
      { service: 'auction', url: 'http://127.0.0.1:3103/metrics' },
      { service: 'logging', url: 'http://127.0.0.1:4104/metrics' },
    ]);
  });

  it('takes DASHBOARD_METRICS_URLS as service=url pairs and names a bad one', () => {
    const config = sut({
      DASHBOARD_METRICS_URLS: 'gateway=http://gateway:3100/metrics, ranking=https://r/metrics',
    });
    expect(metricsTargets(config)).toEqual([
      { service: 'gateway', url: 'http://gateway:3100/metrics' },
      { service: 'ranking', url: 'https://r/metrics' },
    ]);
    expect(() => sut({ DASHBOARD_METRICS_URLS: 'gateway:3100' })).toThrow(ConfigError);
    expect(() => sut({ DASHBOARD_METRICS_URLS: 'gateway:3100' })).toThrow(
      /DASHBOARD_METRICS_URLS: expected service=http\(s\):\/\/host:port\/metrics pairs .*"gateway:3100"/,
    );
    expect(() => sut({ DASHBOARD_SCRAPE_TIMEOUT_MS: '10' })).toThrow(/DASHBOARD_SCRAPE_TIMEOUT_MS/);
  });
});
