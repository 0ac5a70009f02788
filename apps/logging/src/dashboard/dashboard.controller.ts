import type {
  DashboardCalibration,
  DashboardCampaigns,
  DashboardFunnel,
  DashboardLatency,
  DashboardPacingCurve,
  DashboardViewer,
} from '@adfunnel/contracts';
import { RateLimited } from '@adfunnel/platform';
import { Controller, Get, Header, Headers, Param, Query } from '@nestjs/common';
import { CalibrationReportService } from '../reports/calibration-report.service.js';
import { DashboardAccess } from './dashboard-access.service.js';
import { DashboardService } from './dashboard.service.js';

/** The dashboard's data: `Authorization: Bearer <ADMIN_TOKEN>` for everything, or an advertiser's API key for its own. */
@Controller('v1/dashboard')
export class DashboardController {
  constructor(
    private readonly access: DashboardAccess,
    private readonly dashboard: DashboardService,
    private readonly calibrationReports: CalibrationReportService,
  ) {}

  @Get('session')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  session(@Headers('authorization') authorization: unknown): Promise<DashboardViewer> {
    return this.access.viewerOf(authorization);
  }

  /** ?window=24h: requests to conversions; an advertiser sees its own served ads and events. */
  @Get('funnel')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async funnel(
    @Headers('authorization') authorization: unknown,
    @Query() query: unknown,
  ): Promise<DashboardFunnel> {
    return this.dashboard.funnel(await this.access.viewerOf(authorization), query);
  }

  @Get('campaigns')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async campaigns(
    @Headers('authorization') authorization: unknown,
    @Query() query: unknown,
  ): Promise<DashboardCampaigns> {
    return { campaigns: await this.dashboard.campaigns(await this.access.viewerOf(authorization), query) };
  }

  /** ?day=YYYY-MM-DD (default: the campaign's billing day now). */
  @Get('campaigns/:id/pacing')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async pacing(
    @Headers('authorization') authorization: unknown,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<DashboardPacingCurve> {
    return this.dashboard.pacingCurve(await this.access.viewerOf(authorization), id, query);
  }

  /** Operators: p50/p90/p99 of each stage from the services' /metrics histograms. */
  @Get('latency')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async latency(@Headers('authorization') authorization: unknown): Promise<DashboardLatency> {
    await this.access.operatorOf(authorization);
    return this.dashboard.latency();
  }

  /** Operators: the calibration monitor per surface (the query of /v1/reports/calibration). */
  @Get('calibration')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async calibration(
    @Headers('authorization') authorization: unknown,
    @Query() query: unknown,
  ): Promise<DashboardCalibration> {
    await this.access.operatorOf(authorization);
    const report = await this.calibrationReports.calibration(authorization, query);
    return {
      impressions: report.window.impressions,
      surfaces: this.dashboard.surfaceCalibration(report.served, report.model),
    };
  }
}
