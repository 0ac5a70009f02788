import { ZodValidationPipe } from '@adfunnel/platform';
import { Body, Controller, Get, Header, HttpCode, Post, Query, Redirect, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  type ConversionAccepted,
  type ConversionPostback,
  ConversionPostbackSchema,
} from './conversion-postback.dto.js';
import { EventsService } from './events.service.js';

/** The public tracking endpoints the signed URLs of a served ad point at. */
@Controller('v1/events')
export class TrackingController {
  constructor(private readonly events: EventsService) {}

  @Get('impression')
  @HttpCode(204)
  @Header('Cache-Control', 'no-store')
  async impression(@Query('t') token: unknown, @Req() request: FastifyRequest): Promise<void> {
    await this.events.impression(token, { count: request.method !== 'HEAD' });
  }

  @Get('click')
  @Redirect()
  @Header('Cache-Control', 'no-store')
  async click(
    @Query('t') token: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ url: string; statusCode: number }> {
    const click = await this.events.click(token, { count: request.method !== 'HEAD' });
    return { url: click.landingUrl, statusCode: 302 };
  }

  @Post('conversion')
  @HttpCode(202)
  async conversion(
    @Body(new ZodValidationPipe(ConversionPostbackSchema)) body: ConversionPostback,
  ): Promise<ConversionAccepted> {
    const conversion = await this.events.conversion(body.t);
    return { accepted: true, eventId: conversion.eventId };
  }
}
