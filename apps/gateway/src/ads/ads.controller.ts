import { type AdRequest, AdRequestSchema, type AdResponse } from '@adfunnel/contracts';
import { RateLimited, ZodValidationPipe } from '@adfunnel/platform';
import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AdServingMetrics } from './ad-serving-metrics.js';
import { AdServingService } from './ad-serving.service.js';

@Controller('v1/ads')
export class AdsController {
  constructor(
    private readonly serving: AdServingService,
    private readonly metrics: AdServingMetrics,
  ) {}

  @Post()
  @HttpCode(200)
  @RateLimited()
  async requestAds(
    @Body(new ZodValidationPipe(AdRequestSchema)) body: AdRequest,
    @Req() req: FastifyRequest,
  ): Promise<AdResponse> {
    const answer = await this.serving.serve(body, req.id);
    this.metrics.answered(body.surface, answer);
    return answer;
  }
}
