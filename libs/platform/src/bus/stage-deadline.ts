import { AdfunnelError } from '@adfunnel/contracts';

/** The `reason` of the error a stage answers for a request whose deadline has passed. */
export const DEADLINE_EXCEEDED = 'deadline_exceeded';

/**
 * Code `timeout`, so the gateway records the stage as timed out, as it would have had it waited;
 * reason `deadline_exceeded`, so a caller can tell a refusal from a stage that was too slow.
 */
export class DeadlineExceededError extends AdfunnelError {
  constructor(
    readonly stage: string,
    requestId: string,
    lateMs: number,
  ) {
    super(
      'timeout',
      `request ${requestId} reached ${stage} ${lateMs} ms after its deadline`,
      DEADLINE_EXCEEDED,
    );
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Refuses a stage request that arrives after its deadline: the gateway has already answered
 * without it, so the work would be wasted on a machine that is, by then, probably overloaded.
 */
export function assertBeforeDeadline(
  stage: string,
  request: { requestId: string; deadlineAt: number },
  now = Date.now(),
): void {
  if (now >= request.deadlineAt) {
    throw new DeadlineExceededError(stage, request.requestId, now - request.deadlineAt);
  }
}
