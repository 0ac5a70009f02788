import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  Optional,
} from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { type Observable, tap } from 'rxjs';
import { BUS_OPTIONS, type BusModuleOptions, patternOfSubject } from '../bus/bus.constants.js';
import { BusMetrics, type BusPatternMetrics, busOutcomeOf } from './bus-metrics.js';
import { childrenBy } from './metrics.js';

/**
 * Counts and times every bus request a handler of this service answers, by pattern and outcome:
 * `ok`, or the code of the error it answered (a payload that failed its schema is
 * `invalid_request`, a request past its deadline `timeout`).
 */
@Injectable()
export class BusMetricsInterceptor implements NestInterceptor {
  /** By subject, so a request costs a Map lookup: the subjects are the handlers' own few. */
  private readonly bySubject: (subject: string) => BusPatternMetrics;

  constructor(metrics: BusMetrics, @Optional() @Inject(BUS_OPTIONS) options?: BusModuleOptions) {
    const namespace = options?.namespace ?? '';
    this.bySubject = childrenBy((subject) => metrics.handler(patternOfSubject(subject, namespace)));
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const started = performance.now();
    const subject = context.switchToRpc().getContext<NatsContext>().getSubject();
    const pattern = this.bySubject(subject);
    return next.handle().pipe(
      tap({
        complete: () => pattern.record('ok', started),
        error: (err: unknown) => pattern.record(busOutcomeOf(err), started),
      }),
    );
  }
}
