import 'reflect-metadata';
import { runService } from '@adfunnel/platform';
import { SwaggerModule } from '@nestjs/swagger';
import { loadGatewayConfig } from './config.js';
import { GatewayModule } from './gateway.module.js';
import { openApiDocument } from './openapi/openapi-document.js';

const config = loadGatewayConfig();
await runService({
  name: 'gateway',
  module: GatewayModule.forRoot(config),
  host: config.GATEWAY_HOST,
  port: config.GATEWAY_PORT,
  bodyLimitBytes: config.GATEWAY_BODY_LIMIT_BYTES,
  config,
  configureHttp: (app) => SwaggerModule.setup('docs', app, openApiDocument()),
});
