import { RateLimited } from '@adfunnel/platform';
import { Controller, Get, Header, HttpCode, Query, Redirect, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { EventsService } from './events.service.js';
import { TrackingMetrics } from './tracking-metrics.js';

/** The public tracking endpoints the signed URLs of a served ad point at. */
@Controller('v1/events')
export class TrackingController {
  constructor(
    private readonly events: EventsService,
    private readonly metrics: TrackingMetrics,
  ) {}

  @Get('impression')
  @HttpCode(204)
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async impression(@Query('t') token: unknown, @Req() request: FastifyRequest): Promise<void> {
    const count = request.method !== 'HEAD';
    await this.metrics.outcome('impression', count, this.events.impression(token, { count }));
  }

  @Get('hide')
  @HttpCode(204)
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async hide(@Query('t') token: unknown, @Req() request: FastifyRequest): Promise<void> {
    const count = request.method !== 'HEAD';
    await this.metrics.outcome('hide', count, this.events.hide(token, { count }));
  }

  @Get('click')
  @Redirect()
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async click(
    @Query('t') token: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ url: string; statusCode: number }> {
    const count = request.method !== 'HEAD';
    const click = await this.metrics.outcome('click', count, this.events.click(token, { count }));
    return { url: click.landingUrl, statusCode: 302 };
  }
}
