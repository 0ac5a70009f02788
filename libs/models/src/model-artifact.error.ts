import { AdfunnelError } from '@adfunnel/contracts';

/** A model directory that cannot be served: missing files, an unreadable or invalid manifest. */
export class ModelArtifactError extends AdfunnelError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'ModelArtifactError';
  }
}
