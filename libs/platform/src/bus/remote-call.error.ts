import { AdfunnelError, type ErrorCode } from '@adfunnel/contracts';

export class RemoteCallError extends AdfunnelError {
  constructor(
    readonly pattern: string,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'RemoteCallError';
  }
}
