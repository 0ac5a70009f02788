import { AdfunnelError, type ErrorCode } from '@adfunnel/contracts';

export class RemoteCallError extends AdfunnelError {
  constructor(
    readonly pattern: string,
    code: ErrorCode,
    message: string,
    reason?: string,
  ) {
    super(code, message, reason);
    this.name = 'RemoteCallError';
  }
}
