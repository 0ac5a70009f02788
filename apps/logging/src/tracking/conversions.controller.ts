import { RateLimited } from '@adfunnel/platform';
import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import type { ConversionAccepted } from './conversion.dto.js';
import { ConversionsService } from './conversions.service.js';
import { TrackingMetrics } from './tracking-metrics.js';

/** The advertiser's conversion API (server to server, authenticated by its API key). */
@Controller('v1/conversions')
export class ConversionsController {
  constructor(
    private readonly conversions: ConversionsService,
    private readonly metrics: TrackingMetrics,
  ) {}

  /** The body is checked by the service, after the key: refusals are counted, whatever their reason. */
  @Post()
  @HttpCode(202)
  @RateLimited()
  async create(
    @Headers('authorization') authorization: unknown,
    @Body() body: unknown,
  ): Promise<ConversionAccepted> {
    return this.metrics.outcome('conversion', true, this.conversions.accept(authorization, body));
  }
}
