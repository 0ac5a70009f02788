import { RateLimited } from '@adfunnel/platform';
import { Controller, Get, Header, HttpCode, Query, Redirect, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { EventsService } from './events.service.js';

/** The public tracking endpoints the signed URLs of a served ad point at. */
@Controller('v1/events')
export class TrackingController {
  constructor(private readonly events: EventsService) {}

  @Get('impression')
  @HttpCode(204)
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async impression(@Query('t') token: unknown, @Req() request: FastifyRequest): Promise<void> {
    await this.events.impression(token, { count: request.method !== 'HEAD' });
  }

  @Get('hide')
  @HttpCode(204)
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async hide(@Query('t') token: unknown, @Req() request: FastifyRequest): Promise<void> {
    await this.events.hide(token, { count: request.method !== 'HEAD' });
  }

  @Get('click')
  @Redirect()
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async click(
    @Query('t') token: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ url: string; statusCode: number }> {
    const click = await this.events.click(token, { count: request.method !== 'HEAD' });
    return { url: click.landingUrl, statusCode: 302 };
  }
}
