import type { RunServiceOptions } from '@adfunnel/platform';
import { SwaggerModule } from '@nestjs/swagger';
import { type GatewayConfig, loadGatewayConfig } from './config.js';
import { GatewayModule } from './gateway.module.js';
import { openApiDocument } from './openapi/openapi-document.js';
import { GatewayAdmission } from './overload/gateway-admission.js';

/**
 * How the gateway runs (main.ts), and how a test starts the same service in-process; `docs: false`
 * leaves out the Swagger UI at /docs (its static files do not load under the test runner).
 */
export function gatewayServiceOptions(config: GatewayConfig, { docs = true } = {}): RunServiceOptions {
  return {
    name: 'gateway',
    module: GatewayModule.forRoot(config),
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_PORT,
    bodyLimitBytes: config.GATEWAY_BODY_LIMIT_BYTES,
    config,
    configureHttp: (app) => {
      // Before init, which registers the routes the admission hook attaches to.
      app.get(GatewayAdmission).install(app.getHttpAdapter().getInstance());
      if (docs) SwaggerModule.setup('docs', app, openApiDocument());
    },
  };
}

/** How main.ts runs it, with the config read from the environment (also when co-located). */
export function serviceFromEnv(): RunServiceOptions {
  return gatewayServiceOptions(loadGatewayConfig());
}
