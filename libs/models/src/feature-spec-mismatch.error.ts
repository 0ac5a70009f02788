import { AdfunnelError } from '@adfunnel/contracts';

/** The model was trained on other features than this build computes; serving it would give garbage. */
export class FeatureSpecMismatchError extends AdfunnelError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'FeatureSpecMismatchError';
  }
}
