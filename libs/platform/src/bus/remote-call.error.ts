import { AdfunnelError, type ErrorCode } from '@adfunnel/contracts';

/** An error the remote handler answered with; `code` and `message` are the remote ones. */
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
