import { type ActivityReport, type ActivityReportAnswer, ActivityReportSchema } from '@adfunnel/contracts';
import { RateLimited, ZodValidationPipe } from '@adfunnel/platform';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { OrganicActivityService } from './organic-activity.service.js';

/** Organic activity from the product surfaces, beside their ad requests (same callers, same trust). */
@Controller('v1/activity')
export class ActivityController {
  constructor(private readonly activity: OrganicActivityService) {}

  @Post()
  @HttpCode(200)
  @RateLimited()
  report(
    @Body(new ZodValidationPipe(ActivityReportSchema)) body: ActivityReport,
  ): Promise<ActivityReportAnswer> {
    return this.activity.report(body);
  }
}
