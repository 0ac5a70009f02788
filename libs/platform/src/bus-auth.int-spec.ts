import { AdfunnelError, type RpcContract } from '@adfunnel/contracts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Controller, Module } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { startService } from './bootstrap/run-service.js';
import { serviceModule } from './bootstrap/service.module.js';
import { BusClient } from './bus/bus-client.service.js';
import { natsConnectionOptions } from './bus/nats-connection.js';
import { RemoteCallError } from './bus/remote-call.error.js';
import { CommonEnv } from './config/common-env.js';
import { parseConfig } from './config/load-config.js';
import { ZodValidationPipe } from './validation/zod-validation.pipe.js';

const run = randomUUID().slice(0, 8);
const NAMESPACE = `auth_${run}`;
const EchoRequest = z.strictObject({ requestId: z.string().min(1), n: z.number().int().min(0).max(1000) });
const EchoResponse = z.object({ n: z.number() });
const echo: RpcContract<typeof EchoRequest, typeof EchoResponse> = {
  pattern: 'adfunnel.test.auth.echo.v1',
  request: EchoRequest,
  response: EchoResponse,
};
const ECHO_SUBJECT = `${NAMESPACE}.${echo.pattern}`;
const password = () => randomBytes(16).toString('hex');
const PASSWORDS = { gateway: password(), echo: password(), auction: password() };

/** The funnel's permissions (docker/nats.conf) for a gateway, the echo stage and another stage. */
const NATS_CONFIG = `
authorization {
  users = [
    { user: gateway, password: "${PASSWORDS.gateway}",
      permissions: { publish: ["${ECHO_SUBJECT}"], subscribe: ["_INBOX.>"] } }
    { user: echo, password: "${PASSWORDS.echo}",
      permissions: { publish: { deny: [">"] }, subscribe: ["${ECHO_SUBJECT}"], allow_responses: true } }
    { user: auction, password: "${PASSWORDS.auction}",
      permissions: { publish: { deny: [">"] }, subscribe: ["${NAMESPACE}.adfunnel.auction.run.v1"], allow_responses: true } }
  ]
}
`;

/** Requests the echo handler ran: what a message the bus refused never reaches. */
let handled = 0;

@Controller()
class EchoController {
  @MessagePattern(echo.pattern)
  echo(@Payload(new ZodValidationPipe(EchoRequest)) request: z.infer<typeof EchoRequest>) {
    handled++;
    return { n: request.n };
  }
}

@Module({})
class EchoModule {}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resolves once the server says it is ready; its output is kept to look for permission violations. */
async function startNatsServer(
  configPath: string,
  port: number,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('nats-server', ['-c', configPath, '-a', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${output}`)), 10_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', reject);
  });
  return { child, output: () => output };
}

describe('NATS authentication and permissions', () => {
  let dir: string;
  let nats: { child: ChildProcess; output: () => string };
  let url: (user?: keyof typeof PASSWORDS) => string;
  let stage: NestFastifyApplication;
  let gateway: BusClient;

  const busClient = (natsUrl: string) =>
    new BusClient({ natsUrl, timeoutMs: 2000, name: 'auth-test', namespace: NAMESPACE });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adfunnel-nats-auth-'));
    const configPath = join(dir, 'nats.conf');
    await writeFile(configPath, NATS_CONFIG);
    const port = await freePort();
    nats = await startNatsServer(configPath, port);
    url = (user) => `nats://${user === undefined ? '' : `${user}:${PASSWORDS[user]}@`}127.0.0.1:${port}`;

    const config = parseConfig(z.object(CommonEnv), {
      NATS_URL: url('echo'),
      BUS_NAMESPACE: NAMESPACE,
      LOG_LEVEL: 'error',
    });
    stage = await startService({
      name: 'echo',
      module: serviceModule(EchoModule, { name: 'echo', config, controllers: [EchoController] }),
      config,
      port: 0,
      queueGroup: 'adfunnel-test-echo',
    });
    gateway = busClient(url('gateway'));
    await gateway.onModuleInit();
  });

  afterAll(async () => {
    await gateway?.onApplicationShutdown();
    await stage?.close();
    nats?.child.kill();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('serves on 127.0.0.1 by default', () => {
    expect(stage.getHttpServer().address()).toMatchObject({ address: '127.0.0.1' });
  });

  it('answers a request from the user allowed to send it', async () => {
    const before = handled;

    await expect(gateway.call(echo, { requestId: 'r-1', n: 7 })).resolves.toEqual({ n: 7 });
    expect(handled).toBe(before + 1);
  });

  it('refuses a client without credentials, saying to put them in NATS_URL', async () => {
    const err = await busClient(url())
      .onModuleInit()
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AdfunnelError);
    expect((err as Error).message).toContain('refused the credentials');
    expect((err as Error).message).toContain('nats://<user>:<password>@host:4222');
  });

  it('refuses a wrong password without repeating it', async () => {
    const wrong = url('gateway').replace(PASSWORDS.gateway, 'not-the-password');

    const err = await busClient(wrong)
      .onModuleInit()
      .catch((e: unknown) => e);

    expect((err as Error).message).toContain('refused the credentials');
    expect((err as Error).message).toContain('nats://gateway:***@127.0.0.1');
    expect((err as Error).message).not.toContain('not-the-password');
  });

  it("stops another stage's user, and the stage's own, from publishing a request to the stage", async () => {
    const before = handled;
    const violations: string[] = [];
    const publishers: NatsConnection[] = [];
    for (const user of ['auction', 'echo'] as const) {
      const nc = await connect({ ...natsConnectionOptions(url(user)), maxReconnectAttempts: 0 });
      publishers.push(nc);
      void (async () => {
        for await (const status of nc.status()) {
          if (status.type === 'error') violations.push(`${user}: ${status.error.message}`);
        }
      })();
      nc.publish(ECHO_SUBJECT, JSON.stringify({ pattern: echo.pattern, data: { requestId: 'x', n: 1 } }));
      await nc.flush();
    }
    // The server answers a violation asynchronously; a ping after it proves it has been sent.
    await Promise.all(publishers.map((nc) => nc.flush()));
    await Promise.all(publishers.map((nc) => nc.close()));

    expect(violations).toEqual([
      `auction: Permissions Violation for Publish to "${ECHO_SUBJECT}"`,
      `echo: Permissions Violation for Publish to "${ECHO_SUBJECT}"`,
    ]);
    expect(handled).toBe(before);
  });

  it('rejects a message that fails its schema and counts it on /health by pattern and reason', async () => {
    const before = handled;
    const bad = { requestId: 'r-2', n: 5000 };

    for (let i = 0; i < 2; i++) {
      const err = await gateway.call(echo, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteCallError);
      expect(err).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('n: ') });
    }
    const health = await fetch(`${await stage.getUrl()}/health`);
    const body = (await health.json()) as { info: Record<string, Record<string, unknown>> };

    expect(handled).toBe(before);
    expect(body.info['rejectedMessages']).toEqual({
      status: 'up',
      total: 2,
      byPattern: { [echo.pattern]: { 'n: too_big': 2 } },
    });
  });

  it('lets the stage answer every request it took (allow_responses), invalid ones included', () => {
    expect(nats.output()).not.toMatch(/Publish Violation - User "echo", Subject "_INBOX/);
  });

  it('refuses to start a service without credentials, saying why', async () => {
    const config = parseConfig(z.object(CommonEnv), { NATS_URL: url(), BUS_NAMESPACE: NAMESPACE });

    await expect(
      startService({
        name: 'echo-anonymous',
        module: serviceModule(EchoModule, { name: 'echo-anonymous', config }),
        config: { ...config, LOG_LEVEL: 'error' },
        port: 0,
        queueGroup: 'adfunnel-test-echo',
        logger: { log() {}, error() {}, warn() {} },
      }),
    ).rejects.toThrow(/refused the credentials/);
  });
});
