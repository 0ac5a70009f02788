import { AdfunnelError, type DashboardViewer } from '@adfunnel/contracts';
import { Injectable } from '@nestjs/common';
import { ReportAccess } from '../reports/report-access.service.js';

@Injectable()
export class DashboardAccess {
  constructor(private readonly access: ReportAccess) {}

  /** Who is looking: an operator (ADMIN_TOKEN) sees every advertiser, an advertiser (its API key) its own. */
  async viewerOf(authorization: unknown): Promise<DashboardViewer> {
    const scope = await this.access.scopeOf(authorization);
    return scope === 'all' ? { role: 'operator' } : { role: 'advertiser', advertiserId: scope };
  }

  /** The operator panels (latency, calibration, the platform's funnel) are not an advertiser's to read. */
  async operatorOf(authorization: unknown): Promise<void> {
    const viewer = await this.viewerOf(authorization);
    if (viewer.role !== 'operator') {
      throw new AdfunnelError('forbidden', 'this panel needs "Authorization: Bearer <ADMIN_TOKEN>"');
    }
  }
}
