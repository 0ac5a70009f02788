import { Module } from '@nestjs/common';
import { ExperimentsReportController } from './experiments-report.controller.js';

/** GET /v1/reports/experiments: the experiments' per-arm analysis (ADMIN_TOKEN). */
@Module({ controllers: [ExperimentsReportController] })
export class ExperimentsReportModule {}
