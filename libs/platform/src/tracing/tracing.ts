import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface TracingOptions {
  exporter: SpanExporter;
  /** Export in batches off the request path (OTLP); a test's in-memory exporter takes each span as it ends. */
  batch?: boolean;
  /** Share of new traces recorded, 0 to 1; a request that arrives with a trace follows its caller's decision. */
  sampleRatio?: number;
}

/** What the bootstrap reads of a service's config to decide on tracing. */
export interface TracingConfig {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  TRACING_SAMPLE_RATIO?: number | undefined;
}

interface ActiveTracing {
  processor: SpanProcessor;
  sampleRatio: number;
  tracers: Map<string, Tracer>;
}

/**
 * Tracing is per process, like the context it flows in: off until a service starts with an OTLP
 * endpoint (or a test enables it), and then every service of the process gets a tracer of its own
 * (its own `service.name`), co-located or not. Off, nothing is started and nothing is wrapped:
 * `serviceTracer` answers undefined and the callers take their untraced path.
 */
let active: ActiveTracing | undefined;

export function enableTracing(options: TracingOptions): void {
  if (active !== undefined) return;
  const sampleRatio = options.sampleRatio ?? 1;
  if (!(sampleRatio >= 0 && sampleRatio <= 1))
    throw new Error(`sampleRatio must be within 0..1, got ${sampleRatio}`);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  active = {
    processor:
      options.batch === true
        ? new BatchSpanProcessor(options.exporter)
        : new SimpleSpanProcessor(options.exporter),
    sampleRatio,
    tracers: new Map(),
  };
}

/** Turns tracing on when the config names an OTLP endpoint (its `/v1/traces`, over HTTP/protobuf). */
export function enableTracingFrom(config: TracingConfig): void {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined || active !== undefined) return;
  enableTracing({
    exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` }),
    batch: true,
    sampleRatio: config.TRACING_SAMPLE_RATIO ?? 1,
  });
}

export function tracingEnabled(): boolean {
  return active !== undefined;
}

/** The tracer of one service of this process; undefined while tracing is off. */
export function serviceTracer(service: string): Tracer | undefined {
  if (active === undefined) return undefined;
  let tracer = active.tracers.get(service);
  if (tracer === undefined) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(active.sampleRatio) }),
      spanProcessors: [active.processor],
    });
    tracer = provider.getTracer('adfunnel');
    active.tracers.set(service, tracer);
  }
  return tracer;
}

/** Exports what has ended so far; a service calls it as it closes. */
export async function flushTracing(): Promise<void> {
  await active?.processor.forceFlush();
}

/** Flushes and turns tracing off again (tests). */
export async function disableTracing(): Promise<void> {
  const current = active;
  if (current === undefined) return;
  active = undefined;
  await current.processor.shutdown();
  context.disable();
  propagation.disable();
}

/** The trace context a caller sent in a header carrier (HTTP, NATS); a request without one starts a trace. */
export function extractTraceContext<C>(carrier: C, getter: TextMapGetter<C>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, getter);
}
