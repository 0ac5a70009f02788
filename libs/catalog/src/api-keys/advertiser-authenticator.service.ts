import { AdfunnelError } from '@adfunnel/contracts';
import { type AdminTokens, bearerTokenOf } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { AdvertiserApiKeyService } from './advertiser-api-key.service.js';

export type CredentialFailure = 'missing_credentials' | 'invalid_credentials';

/** A request without a valid advertiser API key; the message says what to send. */
export class CredentialsError extends AdfunnelError {
  constructor(
    override readonly reason: CredentialFailure,
    message: string,
  ) {
    super('unauthenticated', message, reason);
  }
}

/**
 * Which advertiser an `Authorization: Bearer <API key>` header belongs to (keys stored hashed). Each
 * request looks its key up (no cache), so a revoked key gets 401 from the next request on.
 */
@Injectable()
export class AdvertiserAuthenticator {
  constructor(private readonly apiKeys: AdvertiserApiKeyService) {}

  async advertiserOf(authorization: unknown): Promise<number> {
    const key = bearerToken(authorization);
    const verdict = await this.apiKeys.verify(key);
    if (verdict.valid) return verdict.advertiserId;
    const why = {
      malformed: 'is not an adfunnel API key (adf_live_ followed by 43 characters)',
      unknown: 'is not a key we issued',
      revoked: 'has been revoked',
    }[verdict.reason];
    throw new CredentialsError('invalid_credentials', `the API key ${why}`);
  }

  /**
   * Whom a request acts for: every advertiser ('all') with one of the operators' tokens, else the
   * advertiser whose API key it bears; 401 without either.
   */
  async scopeOf(authorization: unknown, operators: AdminTokens): Promise<number | 'all'> {
    if (operators.configured && operators.accepts(bearerToken(authorization))) return 'all';
    return this.advertiserOf(authorization);
  }
}

export function bearerToken(authorization: unknown): string {
  const token = bearerTokenOf(authorization);
  if (token === undefined) {
    throw new CredentialsError(
      'missing_credentials',
      'no API key: send the header "Authorization: Bearer <API key>" (an operator issues keys: ' +
        'POST /v1/advertisers/{id}/api-keys on the advertiser API, or npm run catalog -- api-keys issue)',
    );
  }
  if (token === null) {
    throw new CredentialsError('invalid_credentials', 'the Authorization header must be "Bearer <API key>"');
  }
  return token;
}
