import { AdfunnelError, isErrorBody } from '@adfunnel/contracts';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { finalize, type Observable, tap } from 'rxjs';

/** Span attribute: `ok`, or the error code a bus call or handler ended with. */
export const ATTR_BUS_OUTCOME = 'adfunnel.bus.outcome';

const natsHeaderSetter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

export const natsHeaderGetter: TextMapGetter<MsgHdrs | undefined> = {
  get: (carrier, key) => carrier?.get(key) || undefined,
  keys: (carrier) => carrier?.keys() ?? [],
};

/** NATS headers carrying the active trace context (W3C `traceparent`) to the handler. */
export function traceHeaders(): MsgHdrs {
  const carrier = natsHeaders();
  propagation.inject(context.active(), carrier, natsHeaderSetter);
  return carrier;
}

function busAttributes(pattern: string, subject: string): Attributes {
  return {
    'messaging.system': 'nats',
    'messaging.destination.name': subject,
    'rpc.method': pattern,
  };
}

/**
 * One bus call as a client span, active while it runs: its NATS request carries it in its headers,
 * and a co-located handler (called in this process) sees it as the active span.
 */
export async function tracedCall<T>(
  tracer: Tracer,
  pattern: string,
  subject: string,
  call: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(
    pattern,
    { kind: SpanKind.CLIENT, attributes: busAttributes(pattern, subject) },
    async (span) => {
      try {
        const result = await call();
        span.setAttribute(ATTR_BUS_OUTCOME, 'ok');
        return result;
      } catch (err) {
        failSpan(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Runs a `@MessagePattern` handler in a server span, a child of `parent` (the caller's span, from
 * the NATS headers or, on the local bus, the active context). The span ends with the handler's
 * answer: its stream, after the app's interceptors and filter, completes or fails.
 */
export async function tracedHandler(
  tracer: Tracer,
  pattern: string,
  subject: string,
  parent: Context,
  invoke: () => Promise<unknown>,
  toObservable: (result: unknown) => Observable<unknown>,
): Promise<Observable<unknown>> {
  const span = tracer.startSpan(
    pattern,
    { kind: SpanKind.SERVER, attributes: busAttributes(pattern, subject) },
    parent,
  );
  let result: unknown;
  try {
    result = await context.with(trace.setSpan(parent, span), invoke);
  } catch (err) {
    failSpan(span, err);
    span.end();
    throw err;
  }
  return toObservable(result).pipe(
    tap({
      complete: () => span.setAttribute(ATTR_BUS_OUTCOME, 'ok'),
      error: (err: unknown) => failSpan(span, err),
    }),
    finalize(() => span.end()),
  );
}

function failSpan(span: Span, err: unknown): void {
  const code = err instanceof AdfunnelError || isErrorBody(err) ? err.code : 'internal';
  const message = err instanceof Error || isErrorBody(err) ? err.message : String(err);
  span.setAttribute(ATTR_BUS_OUTCOME, code);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
