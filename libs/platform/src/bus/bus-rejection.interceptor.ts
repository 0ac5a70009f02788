import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { type Observable, tap } from 'rxjs';
import { SchemaRejectionError } from '../validation/schema-rejection.error.js';
import { BUS_OPTIONS, type BusModuleOptions, patternOfSubject } from './bus.constants.js';
import { BusRejections } from './bus-rejections.js';

/**
 * Counts the bus requests whose payload failed its schema (the `@Payload` pipe throws inside the
 * handler this wraps), by the pattern they came on. The caller still gets the invalid_request.
 */
@Injectable()
export class BusRejectionInterceptor implements NestInterceptor {
  constructor(
    private readonly rejections: BusRejections,
    @Inject(BUS_OPTIONS) private readonly options: BusModuleOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    return next.handle().pipe(
      tap({
        error: (err: unknown) => {
          if (!(err instanceof SchemaRejectionError)) return;
          const subject = context.switchToRpc().getContext<NatsContext>().getSubject();
          this.rejections.count(patternOfSubject(subject, this.options.namespace), err.rejection);
        },
      }),
    );
  }
}
