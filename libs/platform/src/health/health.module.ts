import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';

/** Serves GET /health from every provider marked `@RegisterHealthProbe()` in the app. */
@Module({
  imports: [DiscoveryModule, TerminusModule.forRoot({ logger: true })],
  controllers: [HealthController],
})
export class HealthModule {}
