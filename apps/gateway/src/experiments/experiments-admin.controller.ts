import { AdminTokenGuard } from '@adfunnel/platform';
import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  type ExperimentsReloadOutcome,
  ExperimentsService,
  type ExperimentsView,
} from './experiments.service.js';

/**
 * Operator endpoints for the experiments (EXPERIMENTS_CONFIG): what is serving, and a reload after
 * the file was edited (SIGHUP and the file watch do the same). Both need
 * `Authorization: Bearer <ADMIN_TOKEN>`.
 */
@Controller('admin/experiments')
@UseGuards(AdminTokenGuard)
export class ExperimentsAdminController {
  constructor(private readonly experiments: ExperimentsService) {}

  @Get()
  show(): ExperimentsView {
    return this.experiments.view();
  }

  /** 200 with the outcome; 400 with every problem when the file does not validate (the old config serves on). */
  @Post('reload')
  @HttpCode(200)
  reload(): ExperimentsReloadOutcome {
    return this.experiments.reload('endpoint');
  }
}
