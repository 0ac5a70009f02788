/**
 * Error codes shared by every service. An error that crosses the bus or reaches a client carries one
 * of these codes and a message that says what was wrong.
 */
export const ERROR_CODES = [
  'invalid_request',
  'not_found',
  'payload_too_large',
  'not_ready',
  'timeout',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId?: string;
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['code'] === 'string' &&
    (ERROR_CODES as readonly string[]).includes(v['code']) &&
    typeof v['message'] === 'string'
  );
}

/** A domain error with a code; one filter per transport maps it to HTTP or RPC. */
export class AdfunnelError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdfunnelError';
  }

  toBody(requestId?: string): ErrorBody {
    return requestId === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, requestId };
  }
}

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_request: 400,
  not_found: 404,
  payload_too_large: 400,
  not_ready: 503,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};
