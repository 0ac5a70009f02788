import { AdminTokenGuard } from '@adfunnel/platform';
import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { type CalibrationStatus, ServingCalibration } from './serving-calibration.service.js';

/** The calibrators ranking serves now (GET), and a refit from the event store at once (POST refresh). */
@Controller('admin/calibration')
@UseGuards(AdminTokenGuard)
export class CalibrationAdminController {
  constructor(private readonly calibration: ServingCalibration) {}

  @Get()
  show(): CalibrationStatus {
    return this.calibration.status();
  }

  @Post('refresh')
  @HttpCode(200)
  async refresh(): Promise<CalibrationStatus> {
    await this.calibration.refresh();
    return this.calibration.status();
  }
}
