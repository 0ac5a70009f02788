import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NatsContext } from '@nestjs/microservices';
import { type Observable, tap } from 'rxjs';
import { BUS_OPTIONS, type BusModuleOptions, patternOfSubject } from './bus.constants.js';
import { ExpiredRequests } from './expired-requests.js';
import { DeadlineExceededError } from './stage-deadline.js';

const REJECT_EXPIRED = 'adfunnel:rejectExpired';

/**
 * Marks a stage's bus handler: a request whose `deadlineAt` (epoch ms, wall time) has passed is
 * answered `timeout` / `deadline_exceeded` on receipt, before its payload is validated and before the
 * handler runs, so an overloaded stage spends nothing on answers nobody waits for.
 */
export const RejectExpired = (stage: string): MethodDecorator => SetMetadata(REJECT_EXPIRED, stage);

/**
 * Applies `@RejectExpired` and counts every deadline_exceeded a bus handler answers (on receipt, or
 * from a later check of its own, e.g. after a Redis read) in ExpiredRequests. Global, as BusModule
 * provides it; handlers without the mark and without a deadline check are untouched.
 */
@Injectable()
export class StageDeadlineInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly expired: ExpiredRequests,
    @Inject(BUS_OPTIONS) private readonly options: BusModuleOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const pattern = (): string =>
      patternOfSubject(context.switchToRpc().getContext<NatsContext>().getSubject(), this.options.namespace);
    const stage = this.reflector.get<string | undefined>(REJECT_EXPIRED, context.getHandler());
    if (stage !== undefined) {
      const data: unknown = context.switchToRpc().getData();
      const deadlineAt = fieldOf(data, 'deadlineAt');
      const now = Date.now();
      // A payload without a numeric deadline is the schema's to refuse.
      if (typeof deadlineAt === 'number' && now >= deadlineAt) {
        this.expired.count(pattern());
        const requestId = fieldOf(data, 'requestId');
        throw new DeadlineExceededError(
          stage,
          typeof requestId === 'string' ? requestId : '-',
          now - deadlineAt,
        );
      }
    }
    return next.handle().pipe(
      tap({
        error: (err: unknown) => {
          if (err instanceof DeadlineExceededError) this.expired.count(pattern());
        },
      }),
    );
  }
}

function fieldOf(data: unknown, field: string): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[field] : undefined;
}
