/**
 * Error codes shared by every service. An error that crosses the bus or reaches a client carries one
 * of these codes and a message that says what was wrong.
 */
export const ERROR_CODES = [
  'invalid_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'unprocessable',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'not_ready',
  'timeout',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** A finer, stable reason a client can act on, e.g. `wrong_type` or `outside_window`. */
  reason?: string;
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
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'AdfunnelError';
  }

  toBody(requestId?: string): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(requestId === undefined ? {} : { requestId }),
    };
  }
}

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  payload_too_large: 400,
  unsupported_media_type: 415,
  rate_limited: 429,
  not_ready: 503,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};
