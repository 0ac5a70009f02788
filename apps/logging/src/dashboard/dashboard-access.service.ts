import { AdvertiserAuthenticator, bearerToken } from '@adfunnel/catalog';
import { AdfunnelError, type DashboardViewer } from '@adfunnel/contracts';
import { AdminTokens, InjectConfig } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import type { LoggingConfig } from '../config.js';

@Injectable()
export class DashboardAccess {
  private readonly operatorTokens: AdminTokens;

  constructor(
    private readonly advertisers: AdvertiserAuthenticator,
    @InjectConfig() config: LoggingConfig,
  ) {
    this.operatorTokens = new AdminTokens([config.ADMIN_TOKEN, config.REPORTS_ADMIN_TOKEN]);
  }

  /** Who is looking: an operator (ADMIN_TOKEN) sees every advertiser, an advertiser (its API key) its own. */
  async viewerOf(authorization: unknown): Promise<DashboardViewer> {
    if (this.operatorTokens.configured && this.operatorTokens.accepts(bearerToken(authorization))) {
      return { role: 'operator' };
    }
    return { role: 'advertiser', advertiserId: await this.advertisers.advertiserOf(authorization) };
  }

  /** The operator panels (latency, calibration, the platform's funnel) are not an advertiser's to read. */
  async operatorOf(authorization: unknown): Promise<void> {
    const viewer = await this.viewerOf(authorization);
    if (viewer.role !== 'operator') {
      throw new AdfunnelError('forbidden', 'this panel needs "Authorization: Bearer <ADMIN_TOKEN>"');
    }
  }
}
