export const TRACKING_TOKEN_FAILURES = [
  'malformed',
  'bad_signature',
  'unknown_key',
  'expired',
  'wrong_type',
] as const;
export type TrackingTokenFailure = (typeof TRACKING_TOKEN_FAILURES)[number];

/** Why a tracking token was refused; `reason` is safe to show to the caller. */
export class TrackingTokenError extends Error {
  constructor(
    readonly reason: TrackingTokenFailure,
    message: string,
  ) {
    super(message);
    this.name = 'TrackingTokenError';
  }
}
