import { AdvertiserAuthenticator, type AdvertiserScope } from '@adfunnel/catalog';
import { AdminTokens, InjectConfig } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import type { LoggingConfig } from '../config.js';

/**
 * Whom a read of logging's reports, diagnostics and dashboard acts for: every advertiser with an
 * operator's ADMIN_TOKEN (or REPORTS_ADMIN_TOKEN, its older name), else the advertiser of the API key.
 */
@Injectable()
export class ReportAccess {
  private readonly operatorTokens: AdminTokens;

  constructor(
    private readonly auth: AdvertiserAuthenticator,
    @InjectConfig() config: LoggingConfig,
  ) {
    this.operatorTokens = new AdminTokens([config.ADMIN_TOKEN, config.REPORTS_ADMIN_TOKEN]);
  }

  scopeOf(authorization: unknown): Promise<AdvertiserScope> {
    return this.auth.scopeOf(authorization, this.operatorTokens);
  }
}
