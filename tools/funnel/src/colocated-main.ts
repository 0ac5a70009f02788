import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { shareCatalogSnapshots } from '@adfunnel/catalog';
import { type RunServiceOptions, createAppLogger, startService } from '@adfunnel/platform';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type FunnelApp, SERVICE_APPS, SERVICE_MODULE } from './funnel-launcher.js';

/**
 * Runs several of the funnel's services in this one process: `node colocated-main.js retrieval
 * ranking auction gateway` (or `logging advertiser`). Each keeps its own Nest application, HTTP port, health and admin
 * endpoints and its NATS queue group (so gateways elsewhere still reach its stage over the bus),
 * but a call from one to another in this process skips NATS: the stage's handler runs directly,
 * through the same validation, deadline check and error filter; and the services read and hold
 * the catalog once (shareCatalogSnapshots), not once each. Started in the funnel's order
 * (stages before the gateway), stopped in reverse on SIGTERM or SIGINT.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const names = process.argv.slice(2);
const unknown = names.filter((name) => !(SERVICE_APPS as readonly string[]).includes(name));
if (names.length === 0 || unknown.length > 0) {
  process.stderr.write(
    `colocated-main: expected service names among ${SERVICE_APPS.join(', ')}` +
      (unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : '; got none') +
      '\n',
  );
  process.exit(2);
}
const apps = SERVICE_APPS.filter((app) => names.includes(app));
const label = apps.join('+');
const started: { app: FunnelApp; service: NestFastifyApplication }[] = [];
let logger: ReturnType<typeof createAppLogger> | undefined;
shareCatalogSnapshots();

try {
  for (const app of apps) {
    const module = (await import(pathToFileURL(join(root, SERVICE_MODULE(app))).href)) as {
      serviceFromEnv(): RunServiceOptions;
    };
    const options = module.serviceFromEnv();
    logger ??= createAppLogger({
      name: label,
      format: options.config.LOG_FORMAT,
      level: options.config.LOG_LEVEL,
    });
    Logger.overrideLogger(logger);
    started.push({ app, service: await startService({ ...options, logger, localBus: true }) });
  }
} catch (err) {
  new Logger('Bootstrap').fatal(
    `${label} failed to start: ${err instanceof Error ? err.message : String(err)}`,
    err instanceof Error ? err.stack : undefined,
  );
  await stopAll();
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    new Logger('Bootstrap').log(`${label} received ${signal}: finishing in-flight requests, then exiting`);
    void stopAll().then(() => process.exit(0));
  });
}

/** The gateway first, so no new request reaches a stage that is closing. */
async function stopAll(): Promise<void> {
  for (const { app, service } of started.splice(0).reverse()) {
    await service.close().catch((err: unknown) => {
      new Logger('Bootstrap').error(`${app} did not close cleanly: ${(err as Error).message}`);
    });
  }
}
