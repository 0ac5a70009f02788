import { RateLimited } from '@adfunnel/platform';
import { Controller, Get, Header, Headers, Query } from '@nestjs/common';
import { type CalibrationMonitor, CalibrationReportService } from './calibration-report.service.js';

@Controller('v1/reports')
export class CalibrationReportController {
  constructor(private readonly reports: CalibrationReportService) {}

  /** ?windowMs=3600000&limit=50000&settleMs=0, optionally &requestIdPrefix=sim-1-&modelVersion=v&calibrated=true */
  @Get('calibration')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  calibration(
    @Headers('authorization') authorization: unknown,
    @Query() query: unknown,
  ): Promise<CalibrationMonitor> {
    return this.reports.calibration(authorization, query);
  }
}
