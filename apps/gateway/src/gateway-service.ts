import { ConfigError, type RunServiceOptions } from '@adfunnel/platform';
import { SwaggerModule } from '@nestjs/swagger';
import { type GatewayConfig, loadGatewayConfig } from './config.js';
import { loadExperimentsFile } from './experiments/experiments-file.js';
import { GatewayModule } from './gateway.module.js';
import { openApiDocument } from './openapi/openapi-document.js';
import { GatewayAdmission } from './overload/gateway-admission.js';

/**
 * How the gateway runs (main.ts), and how a test starts the same service in-process; `docs: false`
 * leaves out the Swagger UI at /docs (its static files do not load under the test runner). Reads and
 * validates EXPERIMENTS_CONFIG first: a bad file throws a ConfigError naming it and every problem.
 */
export function gatewayServiceOptions(config: GatewayConfig, { docs = true } = {}): RunServiceOptions {
  const experiments =
    config.EXPERIMENTS_CONFIG === undefined ? undefined : loadExperimentsFile(config.EXPERIMENTS_CONFIG);
  return {
    name: 'gateway',
    module: GatewayModule.forRoot(config, experiments),
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

/**
 * How main.ts runs it, with the config read from the environment (also when co-located). A bad
 * EXPERIMENTS_CONFIG file stops it as a bad variable does: one line per problem, exit status 1.
 */
export function serviceFromEnv(): RunServiceOptions {
  const config = loadGatewayConfig();
  try {
    return gatewayServiceOptions(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues)
      process.stderr.write(`config error: ${issue.variable}: ${issue.problem}\n`);
    process.exit(1);
  }
}
