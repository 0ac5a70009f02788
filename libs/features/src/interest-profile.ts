import { AdfunnelError } from '@adfunnel/contracts';
import { TOPIC_COUNT } from './topics.js';

export function assertInterestProfile(interests: readonly number[]): void {
  if (interests.length !== TOPIC_COUNT) {
    throw new AdfunnelError(
      'invalid_request',
      `user.interests has ${interests.length} values, expected one per topic (${TOPIC_COUNT})`,
    );
  }
}
