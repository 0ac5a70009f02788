import { AdfunnelError, type ErrorCode } from '@adfunnel/contracts';

/** Why a conversion was refused: each is answered with its own status and counted in Redis. */
export const CONVERSION_REFUSALS = {
  missing_credentials: 'unauthenticated',
  invalid_credentials: 'unauthenticated',
  invalid_body: 'invalid_request',
  unknown_click: 'not_found',
  wrong_advertiser: 'forbidden',
  outside_window: 'unprocessable',
} as const satisfies Record<string, ErrorCode>;
export type ConversionRefusalReason = keyof typeof CONVERSION_REFUSALS;

/** A refused conversion: never queued, never billed; the message says what was wrong. */
export class ConversionRefusal extends AdfunnelError {
  constructor(
    override readonly reason: ConversionRefusalReason,
    message: string,
  ) {
    super(CONVERSION_REFUSALS[reason], message, reason);
  }
}
