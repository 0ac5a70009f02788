import type { RunServiceOptions } from '@adfunnel/platform';
import { SwaggerModule } from '@nestjs/swagger';
import { AdvertiserModule } from './advertiser.module.js';
import { type AdvertiserConfig, loadAdvertiserConfig } from './config.js';
import { openApiDocument } from './openapi/openapi-document.js';

/**
 * How the advertiser API runs (main.ts, or co-located with logging), and how a test starts it
 * in-process; `docs: false` leaves out the Swagger UI at /docs (its static files do not load under
 * the test runner). No queue group: it serves HTTP only, and nothing on the serving path calls it.
 */
export function advertiserServiceOptions(config: AdvertiserConfig, { docs = true } = {}): RunServiceOptions {
  return {
    name: 'advertiser',
    module: AdvertiserModule.forRoot(config),
    host: config.ADVERTISER_HOST,
    port: config.ADVERTISER_PORT,
    config,
    configureHttp: (app) => {
      if (docs) SwaggerModule.setup('docs', app, openApiDocument());
    },
  };
}

/** The same, with the config read from the environment. */
export function serviceFromEnv(): RunServiceOptions {
  return advertiserServiceOptions(loadAdvertiserConfig());
}
