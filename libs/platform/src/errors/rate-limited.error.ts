import { AdfunnelError } from '@adfunnel/contracts';

/** 429: the filter answers it with a Retry-After header of whole seconds. */
export class RateLimitedError extends AdfunnelError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', message);
    this.name = 'RateLimitedError';
  }
}
