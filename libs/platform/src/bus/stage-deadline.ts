import { AdfunnelError } from '@adfunnel/contracts';

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
    throw new AdfunnelError(
      'timeout',
      `request ${request.requestId} reached ${stage} ${now - request.deadlineAt} ms after its deadline`,
    );
  }
}
