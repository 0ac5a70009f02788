import { AdfunnelError } from '@adfunnel/contracts';
import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, Metrics, childrenBy } from './metrics.js';

/** How a bus message ended: `ok`, or the code of the error it ended with (`timeout`, `invalid_request`, ...). */
export type BusOutcome = 'ok' | AdfunnelError['code'];

/** One pattern's side of the bus: record an outcome and the time since `startedMs` (performance.now()). */
export interface BusPatternMetrics {
  record(outcome: BusOutcome, startedMs: number): void;
}

/**
 * The bus in both directions, by message pattern (the contract's, without BUS_NAMESPACE): requests
 * this service's handlers answered (`adfunnel_bus_handled_*`) and calls it made
 * (`adfunnel_bus_calls_*`, a call that got no answer in time is `timeout`), each counted by outcome
 * and timed. Patterns are the contracts' constants, so the label stays a short list.
 */
@Injectable()
export class BusMetrics {
  readonly handler: (pattern: string) => BusPatternMetrics;
  readonly caller: (pattern: string) => BusPatternMetrics;

  constructor(metrics: Metrics) {
    const handled = metrics.counter({
      name: 'adfunnel_bus_handled_total',
      help: 'Bus requests this service handled, by pattern and outcome (ok or the error code answered)',
      labelNames: ['pattern', 'outcome'],
    });
    const handledDuration = metrics.histogram({
      name: 'adfunnel_bus_handle_duration_seconds',
      help: 'Time a bus handler of this service took, from receipt to its answer, by pattern',
      labelNames: ['pattern'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
    });
    const calls = metrics.counter({
      name: 'adfunnel_bus_calls_total',
      help: 'Bus calls this service made, by pattern and outcome (ok, timeout, or the error code received)',
      labelNames: ['pattern', 'outcome'],
    });
    const callDuration = metrics.histogram({
      name: 'adfunnel_bus_call_duration_seconds',
      help: 'Time from sending a bus request to its answer, its error or its timeout, by pattern',
      labelNames: ['pattern'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
    });
    this.handler = childrenBy((pattern) => patternMetrics(pattern, handled, handledDuration));
    this.caller = childrenBy((pattern) => patternMetrics(pattern, calls, callDuration));
  }
}

/** The outcome label of an error a handler threw or a call ended with. */
export function busOutcomeOf(error: unknown): BusOutcome {
  return error instanceof AdfunnelError ? error.code : 'internal';
}

function patternMetrics(
  pattern: string,
  counter: Counter<'pattern' | 'outcome'>,
  duration: Histogram<'pattern'>,
): BusPatternMetrics {
  const timer = duration.labels(pattern);
  const outcome = childrenBy((value: BusOutcome) => counter.labels(pattern, value));
  return {
    record(value, startedMs) {
      timer.observe((performance.now() - startedMs) / 1000);
      outcome(value).inc();
    },
  };
}
