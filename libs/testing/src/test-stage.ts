import { BusClient, startService } from '@adfunnel/platform';
import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TEST_NATS_URL, testRunId } from './test-infrastructure.js';

/** Calls from a test may wait for a cold stage (a model warming up, an index building). */
const TEST_CALL_TIMEOUT_MS = 10_000;

/** A bus client whose subjects live in `namespace`, as a service configured with BUS_NAMESPACE uses. */
export async function connectTestBus(namespace: string): Promise<BusClient> {
  const bus = new BusClient({
    natsUrl: TEST_NATS_URL,
    timeoutMs: TEST_CALL_TIMEOUT_MS,
    name: `test-${namespace}`,
    namespace,
  });
  await bus.onModuleInit();
  return bus;
}

/** What a stage's config is parsed from: this machine's NATS, the stage's own namespace, quiet logs. */
export interface TestStageEnv {
  NATS_URL: string;
  BUS_NAMESPACE: string;
  /** Budget state and frequency caps under keys of the stage's own. */
  BUDGET_KEY_PREFIX: string;
  /** Delivery-diagnostics counts under keys of the stage's own, not a local funnel's. */
  DELIVERY_KEY_PREFIX: string;
  CATALOG_REFRESH_MS: string;
  LOG_LEVEL: string;
}

export interface TestStageOptions {
  /** The service's name: in logs, and the start of its namespace. */
  name: string;
  /** The queue group the service joins in production; the namespace alone keeps the test apart. */
  queueGroup: string;
  module: (env: TestStageEnv) => Type<unknown> | DynamicModule;
}

export interface TestStage {
  app: NestFastifyApplication;
  url: string;
  /** BUS_NAMESPACE of the stage, unique to this run. */
  namespace: string;
  bus: BusClient;
  close(): Promise<void>;
}

/**
 * Starts a service in-process on a free port, serving the bus in a namespace of its own, so a
 * funnel started with `npm start` (the plain namespace) or another test run neither answers the
 * test's requests nor receives them.
 */
export async function startTestStage(options: TestStageOptions): Promise<TestStage> {
  const namespace = testRunId(`${options.name}_test`);
  const env: TestStageEnv = {
    NATS_URL: TEST_NATS_URL,
    BUS_NAMESPACE: namespace,
    BUDGET_KEY_PREFIX: namespace,
    DELIVERY_KEY_PREFIX: namespace,
    CATALOG_REFRESH_MS: '0',
    LOG_LEVEL: 'warn',
  };
  const app = await startService({
    name: `${options.name}-test`,
    module: options.module(env),
    port: 0,
    host: '127.0.0.1',
    config: { NATS_URL: TEST_NATS_URL, BUS_NAMESPACE: namespace, LOG_FORMAT: 'pretty', LOG_LEVEL: 'warn' },
    queueGroup: options.queueGroup,
  });
  let bus: BusClient;
  try {
    bus = await connectTestBus(namespace);
  } catch (err) {
    await app.close();
    throw err;
  }
  return {
    app,
    url: await app.getUrl(),
    namespace,
    bus,
    async close() {
      await bus.onApplicationShutdown();
      await app.close();
    },
  };
}
