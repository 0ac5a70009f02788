import { AdvertiserAuthenticator, type AdvertiserScope } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';
import { AdminTokens, InjectConfig } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import type { AdvertiserConfig } from '../config.js';

/**
 * Whom a request acts for: the advertiser of its API key, or every advertiser with ADMIN_TOKEN.
 * Naming an advertiser that is not the key's own is 403; another advertiser's campaign or ad is
 * looked up within the key's advertiser and so is 404, the same as one that does not exist.
 */
@Injectable()
export class AdvertiserAccess {
  private readonly operators: AdminTokens;

  constructor(
    private readonly auth: AdvertiserAuthenticator,
    @InjectConfig() config: AdvertiserConfig,
  ) {
    this.operators = new AdminTokens([config.ADMIN_TOKEN]);
  }

  scopeOf(authorization: unknown): Promise<AdvertiserScope> {
    return this.auth.scopeOf(authorization, this.operators);
  }

  /**
   * 403 for an API key where only an operator may act (onboarding advertisers, their keys): a key is
   * one advertiser's, and must not mint keys or read others'.
   */
  async requireOperator(authorization: unknown): Promise<void> {
    const scope = await this.scopeOf(authorization);
    if (scope !== 'all') {
      throw new AdfunnelError(
        'forbidden',
        `only an operator (Authorization: Bearer <ADMIN_TOKEN>) manages advertisers and their API keys; ` +
          `this API key belongs to advertiser ${scope} (GET /v1/advertisers/me reads it)`,
        'operator_only',
      );
    }
  }

  /** The advertiser a request that names one (or not) acts for. */
  advertiserFor(scope: AdvertiserScope, named: number | undefined): number {
    if (scope === 'all') {
      if (named === undefined) {
        throw new AdfunnelError('invalid_request', 'advertiserId: is required when an operator acts');
      }
      return named;
    }
    this.refuseOther(scope, named);
    return scope;
  }

  /** 403 when an API key names an advertiser other than its own. */
  refuseOther(scope: AdvertiserScope, named: number | undefined): void {
    if (scope !== 'all' && named !== undefined && named !== scope) {
      throw new AdfunnelError(
        'forbidden',
        `this API key belongs to advertiser ${scope}; it cannot act for advertiser ${named}`,
      );
    }
  }
}
