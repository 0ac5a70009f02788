import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parse } from 'yaml';
import { readComposeFile, requiredVariables } from './compose.js';
import { type MetricType, registeredMetrics, seriesNames } from './metric-registry.js';
import { promqlReferences } from './promql.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const grafana = join(root, 'docker', 'grafana');

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

/** Labels every series has: the service's own default label, and what Prometheus adds at the scrape. */
const SCRAPE_LABELS = ['service', 'job', 'instance'];

/** Every series the services export, with its labels: the registered adfunnel_ metrics and prom-client's defaults. */
async function exportedSeries(): Promise<Map<string, { labels: Set<string> | undefined; source: string }>> {
  const series = new Map<string, { labels: Set<string> | undefined; source: string }>();
  for (const metric of registeredMetrics(root)) {
    for (const name of seriesNames(metric)) {
      const extra = name.endsWith('_bucket') ? ['le'] : metric.type === 'summary' ? ['quantile'] : [];
      const labels =
        metric.labels === undefined ? undefined : new Set([...metric.labels, ...extra, ...SCRAPE_LABELS]);
      series.set(name, { labels, source: metric.source });
    }
  }
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  for (const metric of await defaults.getMetricsAsJSON()) {
    const type = String(metric.type) as MetricType;
    const labels = new Set(SCRAPE_LABELS);
    for (const value of metric.values) for (const label of Object.keys(value.labels)) labels.add(label);
    for (const name of seriesNames({ name: metric.name, type })) {
      const extra = name.endsWith('_bucket') ? ['le'] : type === 'summary' ? ['quantile'] : [];
      series.set(name, { labels: new Set([...labels, ...extra]), source: 'prom-client default metrics' });
    }
  }
  defaults.clear();
  return series;
}

function panelsOf(dashboard: { panels: Panel[] }): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

describe('the Grafana dashboard (docker/grafana/dashboards)', () => {
  const files = readdirSync(join(grafana, 'dashboards')).filter((f) => f.endsWith('.json'));
  const dashboards = files.map(
    (file) =>
      [
        file,
        JSON.parse(readFileSync(join(grafana, 'dashboards', file), 'utf8')) as {
          uid: string;
          panels: Panel[];
        },
      ] as const,
  );

  it('reads the metrics the services register, from their sources', () => {
    const metrics = registeredMetrics(root);

    // The scan finds what libs/platform and the apps register, every one once (a name registered in
    // two places would be two definitions that can drift apart).
    expect(metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'adfunnel_http_requests_total',
        'adfunnel_bus_calls_total',
        'adfunnel_gateway_degraded_answers_total',
        'adfunnel_logging_queue_jobs',
        'adfunnel_ranking_calibration_ratio',
        'adfunnel_spend_charged_usd_total',
      ]),
    );
    expect(metrics.length).toBeGreaterThanOrEqual(35);
    const kinds = new Map<string, Set<string>>();
    for (const m of metrics) kinds.set(m.name, new Set([...(kinds.get(m.name) ?? []), m.type]));
    expect([...kinds].filter(([, k]) => k.size > 1)).toEqual([]);
  });

  it.each(dashboards)(
    '%s queries only series some service exports, with labels those series have',
    async (_file, dashboard) => {
      const series = await exportedSeries();
      const problems: string[] = [];
      let queries = 0;
      for (const panel of panelsOf(dashboard)) {
        for (const target of panel.targets ?? []) {
          queries++;
          const refs = promqlReferences(target.expr);
          const known = new Set<string>(SCRAPE_LABELS);
          for (const { metric, labels } of refs.selectors) {
            const found = series.get(metric);
            if (found === undefined) {
              problems.push(`"${panel.title}": ${metric} is not a metric any service exports`);
              continue;
            }
            if (found.labels === undefined) continue;
            found.labels.forEach((label) => known.add(label));
            for (const label of labels) {
              if (!found.labels.has(label))
                problems.push(`"${panel.title}": ${metric} has no label ${label} (${found.source})`);
            }
          }
          for (const label of refs.groupingLabels) {
            if (!known.has(label))
              problems.push(`"${panel.title}": groups by ${label}, which none of its series has`);
          }
        }
      }

      expect(problems).toEqual([]);
      expect(queries).toBeGreaterThan(20);
    },
  );

  it.each(dashboards)('%s covers what the issue asks to see', (_file, dashboard) => {
    const queried = panelsOf(dashboard)
      .flatMap((panel) => panel.targets ?? [])
      .map((target) => target.expr)
      .join('\n');

    for (const metric of [
      'adfunnel_http_requests_total', // request rate
      'adfunnel_gateway_phase_duration_seconds_bucket', // latency quantiles per stage
      'adfunnel_bus_handle_duration_seconds_bucket',
      'adfunnel_gateway_degraded_answers_total', // degraded answers by reason
      'adfunnel_bus_calls_total', // bus errors and timeouts
      'adfunnel_logging_queue_jobs', // queue depths
      'adfunnel_logging_jobs_total', // job failures
      'adfunnel_logging_events_accepted_total', // events by type
      'adfunnel_logging_events_rejected_total', // and rejections
      'adfunnel_spend_charged_usd_total', // spend
      'adfunnel_budget_campaign_days_exhausted_total', // budget exhaustion
      'adfunnel_model_info', // model version
      'adfunnel_ranking_calibration_ratio', // calibration ratio
      'nodejs_eventloop_lag_p99_seconds', // event-loop delay
    ]) {
      expect(queried).toContain(metric);
    }
  });

  it.each(dashboards)(
    '%s reads the provisioned datasource, and compose mounts where the provider looks',
    (_file, dashboard) => {
      const datasources = parse(
        readFileSync(join(grafana, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
      ) as {
        datasources: { uid: string; url: string }[];
      };
      const uids = new Set(datasources.datasources.map((d) => d.uid));
      const provider = parse(
        readFileSync(join(grafana, 'provisioning', 'dashboards', 'adfunnel.yml'), 'utf8'),
      ) as {
        providers: { options: { path: string } }[];
      };
      const composeFile = join(root, 'docker', 'compose.yml');
      const env = Object.fromEntries(requiredVariables(composeFile).map((name) => [name, 'a'.repeat(48)]));
      const compose = readComposeFile(composeFile, env);
      const grafanaService = compose.services['grafana'];

      for (const panel of panelsOf(dashboard)) {
        for (const ds of [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)]) {
          if (ds !== undefined) expect(uids).toContain(ds.uid);
        }
      }
      expect(grafanaService?.profiles).toEqual(['dashboards']);
      expect(grafanaService?.volumes).toEqual(
        expect.arrayContaining([
          './grafana/provisioning:/etc/grafana/provisioning:ro',
          `./grafana/dashboards:${provider.providers[0]?.options.path}:ro`,
        ]),
      );
      // The datasource's host is compose's prometheus service, on its port.
      const url = new URL(datasources.datasources[0]?.url ?? '');
      expect(Object.keys(compose.services)).toContain(url.hostname);
      expect(compose.services['prometheus']?.ports).toEqual([`127.0.0.1:${url.port}:${url.port}`]);
      expect(new Set(dashboards.map(([, d]) => d.uid)).size).toBe(dashboards.length);
    },
  );
});
