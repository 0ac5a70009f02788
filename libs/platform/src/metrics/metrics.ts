import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type Metric,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

/** prom-client's metric types, for the apps' fields (`Counter.Internal` is one labelled child). */
export type { Counter, Gauge, Histogram } from 'prom-client';

export interface MetricsOptions {
  /** The `service` label on every metric of this process (gateway, retrieval, ...). */
  service: string;
  /** prom-client's process and Node metrics (CPU, memory, event loop lag, GC); default true. */
  defaultMetrics?: boolean;
  /** METRICS_TOKEN: when set, GET /metrics wants `Authorization: Bearer <token>`. */
  token?: string;
}

export const METRICS_OPTIONS = Symbol('METRICS_OPTIONS');

/** Every metric this project defines starts with it; prom-client's default metrics keep their own names. */
export const METRIC_PREFIX = 'adfunnel_';

/** Seconds, for request latencies under the funnel's 250 ms deadline and the slow ones past it. */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
] as const;

type Config<T> = Omit<T, 'registers'>;

/**
 * One Prometheus registry per application (not prom-client's global one, so several services in
 * one test process keep theirs apart), every metric labelled with the service. Metrics are made on
 * first ask and shared after: two providers asking for the same name get the same metric, and a
 * name asked for as another kind is an error.
 */
@Injectable()
export class Metrics implements OnApplicationShutdown {
  readonly registry = new Registry();

  constructor(@Inject(METRICS_OPTIONS) readonly options: MetricsOptions) {
    this.registry.setDefaultLabels({ service: options.service });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(config: Config<CounterConfiguration<L>>): Counter<L> {
    return this.metric(config.name, Counter, () => new Counter({ ...config, registers: [this.registry] }));
  }

  gauge<L extends string>(config: Config<GaugeConfiguration<L>>): Gauge<L> {
    return this.metric(config.name, Gauge, () => new Gauge({ ...config, registers: [this.registry] }));
  }

  histogram<L extends string>(config: Config<HistogramConfiguration<L>>): Histogram<L> {
    return this.metric(
      config.name,
      Histogram,
      () => new Histogram({ ...config, registers: [this.registry] }),
    );
  }

  /** The text exposition format (runs every gauge's collect callback first). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  onApplicationShutdown(): void {
    this.registry.clear();
  }

  private metric<M extends Metric>(
    name: string,
    kind: abstract new (...args: never[]) => M,
    make: () => M,
  ): M {
    if (!name.startsWith(METRIC_PREFIX)) {
      throw new Error(`metric ${name} must start with ${METRIC_PREFIX}`);
    }
    const existing = this.registry.getSingleMetric(name);
    if (existing === undefined) return make();
    if (!(existing instanceof kind)) {
      throw new Error(`metric ${name} is already registered as another kind than ${kind.name}`);
    }
    return existing;
  }
}

/**
 * A metric's children by one label value, made on the first use of each value and kept: prom-client's
 * `labels()` builds and checks a label object on every call, a Map lookup allocates nothing (on this
 * machine a counter increment took 0.92 µs through `labels()`, 0.56 µs through a kept child; a
 * histogram observation 1.5 µs). Only for label values from a small fixed set (stages, patterns,
 * codes), never ids.
 */
export function childrenBy<C, K = string>(make: (value: K) => C): (value: K) => C {
  const children = new Map<K, C>();
  return (value) => {
    let child = children.get(value);
    if (child === undefined) {
      child = make(value);
      children.set(value, child);
    }
    return child;
  };
}

/**
 * A counter's child for a label value known up front, exported at 0 from the start: `rate()` and
 * `increase()` then see its first event, and a dashboard shows 0 rather than no data.
 */
export function startAtZero<C extends { inc(value?: number): void }>(child: C): C {
  child.inc(0);
  return child;
}
