import { type Attributes, SpanStatusCode, trace } from '@opentelemetry/api';
import { serviceTracer, tracingEnabled } from './tracing.js';

/** Adds attributes to the active span (the request's, the handler's); nothing while tracing is off. */
export function annotateSpan(attributes: () => Attributes): void {
  if (!tracingEnabled()) return;
  trace.getActiveSpan()?.setAttributes(attributes());
}

/** Runs one step of a service's work (a hand-off, a write) in a span of its own, when tracing is on. */
export async function tracedStep<T>(service: string, name: string, run: () => Promise<T>): Promise<T> {
  const tracer = serviceTracer(service);
  if (tracer === undefined) return run();
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await run();
    } catch (err) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      span.end();
    }
  });
}
