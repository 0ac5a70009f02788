import { describe, expect, it } from '@jest/globals';
import { Counter, Gauge, Histogram } from 'prom-client';
import { METRIC_PREFIX, Metrics, childrenBy } from './metrics.js';

/** A metric's values as the registry reports them, with the service label it adds. */
async function valuesOf(sut: Metrics, name: string) {
  const metric = (await sut.registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  return metric.values;
}

describe(Metrics.name, () => {
  it('makes a metric on first ask and hands the same one to the next asker', async () => {
    const sut = new Metrics({ service: 'ranking', defaultMetrics: false });
    const config = { name: 'adfunnel_scored_total', help: 'scored', labelNames: ['surface'] as const };

    const first = sut.counter({ ...config, labelNames: [...config.labelNames] });
    const second = sut.counter({ ...config, labelNames: [...config.labelNames] });
    first.inc({ surface: 'search' });
    second.inc({ surface: 'search' }, 2);

    expect(second).toBe(first);
    expect(first).toBeInstanceOf(Counter);
    await expect(valuesOf(sut, 'adfunnel_scored_total')).resolves.toEqual([
      { labels: { surface: 'search', service: 'ranking' }, value: 3 },
    ]);
  });

  it('refuses a name already registered as another kind, naming both', () => {
    const sut = new Metrics({ service: 'gateway', defaultMetrics: false });
    sut.gauge({ name: 'adfunnel_in_flight_requests', help: 'in flight' });

    expect(() => sut.counter({ name: 'adfunnel_in_flight_requests', help: 'in flight' })).toThrow(
      'metric adfunnel_in_flight_requests is already registered as another kind than Counter',
    );
    expect(() => sut.histogram({ name: 'adfunnel_in_flight_requests', help: 'in flight' })).toThrow(
      /another kind than Histogram/,
    );
    expect(sut.gauge({ name: 'adfunnel_in_flight_requests', help: 'in flight' })).toBeInstanceOf(Gauge);
  });

  it(`refuses a name without the ${METRIC_PREFIX} prefix`, () => {
    const sut = new Metrics({ service: 'gateway', defaultMetrics: false });

    expect(() => sut.counter({ name: 'requests_total', help: 'requests' })).toThrow(
      'metric requests_total must start with adfunnel_',
    );
    expect(sut.registry.getMetricsAsArray()).toEqual([]);
  });

  it('labels every metric with the service, prom-client’s process metrics included', async () => {
    const sut = new Metrics({ service: 'auction' });
    sut.histogram({ name: 'adfunnel_run_duration_seconds', help: 'run', buckets: [0.1] }).observe(0.05);

    const text = await sut.scrape();

    expect(sut.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE adfunnel_run_duration_seconds histogram');
    expect(text).toContain('adfunnel_run_duration_seconds_bucket{le="0.1",service="auction"} 1');
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="auction"\} /m);
    expect(text).toMatch(/^process_cpu_seconds_total\{service="auction"\} /m);
  });

  it('keeps the metrics of two services in one process apart', async () => {
    const gateway = new Metrics({ service: 'gateway', defaultMetrics: false });
    const logging = new Metrics({ service: 'logging', defaultMetrics: false });

    gateway.counter({ name: 'adfunnel_things_total', help: 'things' }).inc();
    const other = logging.counter({ name: 'adfunnel_things_total', help: 'things' });

    expect(other).not.toBe(gateway.counter({ name: 'adfunnel_things_total', help: 'things' }));
    await expect(valuesOf(logging, 'adfunnel_things_total')).resolves.toEqual([
      { labels: { service: 'logging' }, value: 0 },
    ]);
  });

  it('forgets its metrics at shutdown', () => {
    const sut = new Metrics({ service: 'gateway', defaultMetrics: false });
    sut.counter({ name: 'adfunnel_things_total', help: 'things' });

    sut.onApplicationShutdown();

    expect(sut.registry.getMetricsAsArray()).toEqual([]);
  });
});

describe(childrenBy.name, () => {
  it('makes one child per value and hands it out again after', () => {
    const made: string[] = [];
    const sut = childrenBy((value: string) => {
      made.push(value);
      return { value };
    });

    const first = sut('search');
    sut('home_feed');

    expect(sut('search')).toBe(first);
    expect(made).toEqual(['search', 'home_feed']);
  });

  it('serves a histogram’s children without asking prom-client again', async () => {
    const sut = new Metrics({ service: 'retrieval', defaultMetrics: false });
    const histogram = sut.histogram({
      name: 'adfunnel_stage_duration_seconds',
      help: 'stage',
      labelNames: ['stage'],
      buckets: [1],
    });
    const child = childrenBy((stage: string) => histogram.labels(stage));

    child('retrieval').observe(0.5);
    child('retrieval').observe(2);

    expect(histogram).toBeInstanceOf(Histogram);
    const text = await sut.scrape();
    expect(text).toContain('adfunnel_stage_duration_seconds_count{service="retrieval",stage="retrieval"} 2');
    expect(text).toContain(
      'adfunnel_stage_duration_seconds_bucket{le="1",service="retrieval",stage="retrieval"} 1',
    );
  });
});
