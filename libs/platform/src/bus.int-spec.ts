import { AdfunnelError, type RpcContract } from '@adfunnel/contracts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplicationContext, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { BusClient } from './bus/bus-client.service.js';
import { BusModule } from './bus/bus.module.js';
import { natsServerOptions } from './bus/nats-server-options.js';
import { RemoteCallError } from './bus/remote-call.error.js';
import { AllExceptionsFilter } from './errors/all-exceptions.filter.js';
import { ZodValidationPipe } from './validation/zod-validation.pipe.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const run = randomUUID().slice(0, 8);
const subject = (name: string): string => `adfunnel.test.platform.${run}.${name}`;

const EchoRequest = z.strictObject({ requestId: z.string().min(1), n: z.number().int().min(0).max(1000) });
const EchoResponse = z.object({ n: z.number(), replica: z.string() });
const echo: RpcContract<typeof EchoRequest, typeof EchoResponse> = {
  pattern: subject('echo'),
  request: EchoRequest,
  response: EchoResponse,
};
const missing = { ...echo, pattern: subject('missing') };
const slow = { ...echo, pattern: subject('slow') };
const failing = { ...echo, pattern: subject('failing') };
const nobody = { ...echo, pattern: subject('nobody-listens') };

/** Handled requests per replica, to prove the queue group delivers each request once. */
const handled = new Map<string, number>();

function replicaModule(replica: string): new () => unknown {
  @Controller()
  class EchoController {
    @MessagePattern(echo.pattern)
    echo(@Payload(new ZodValidationPipe(EchoRequest)) req: z.infer<typeof EchoRequest>) {
      handled.set(replica, (handled.get(replica) ?? 0) + 1);
      return { n: req.n, replica };
    }

    @MessagePattern(missing.pattern)
    missing(@Payload(new ZodValidationPipe(EchoRequest)) req: z.infer<typeof EchoRequest>): never {
      throw new AdfunnelError('not_found', `ad ${req.n} does not exist`);
    }

    @MessagePattern(slow.pattern)
    async slow(): Promise<{ n: number; replica: string }> {
      await sleep(1500);
      return { n: 0, replica };
    }

    @MessagePattern(failing.pattern)
    failing(): never {
      throw new Error('database exploded');
    }
  }
  @Module({ controllers: [EchoController] })
  class ReplicaModule {}
  return ReplicaModule;
}

@Module({
  imports: [BusModule.forRoot({ natsUrl: NATS_URL, timeoutMs: 1000, name: `platform-test-${run}` })],
})
class CallerModule {}

describe(BusClient.name, () => {
  const replicas: INestMicroservice[] = [];
  let caller: INestApplicationContext;
  let sut: BusClient;

  beforeAll(async () => {
    for (const name of ['a', 'b']) {
      const app = await NestFactory.createMicroservice(replicaModule(name), {
        ...natsServerOptions(NATS_URL, `adfunnel-test-${run}`),
        logger: false,
      });
      app.useGlobalFilters(new AllExceptionsFilter());
      await app.listen();
      replicas.push(app);
    }
    caller = await NestFactory.createApplicationContext(CallerModule, { logger: false });
    await caller.init();
    sut = caller.get(BusClient);
  });

  afterAll(async () => {
    await caller?.close();
    await Promise.all(replicas.map((app) => app.close()));
  });

  it('answers a call with the typed response', async () => {
    const res = await sut.call(echo, { requestId: 'r-1', n: 7 });

    expect(res.n).toBe(7);
    expect(['a', 'b']).toContain(res.replica);
    expect(sut.isConnected()).toBe(true);
  });

  it('delivers a remote AdfunnelError as RemoteCallError with its code and message', async () => {
    const err = await sut.call(missing, { requestId: 'r-2', n: 42 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RemoteCallError);
    expect(err).toMatchObject({
      code: 'not_found',
      message: 'ad 42 does not exist',
      pattern: missing.pattern,
    });
  });

  it('delivers a payload that fails validation as invalid_request naming the field', async () => {
    const bad = { requestId: 'r-3', n: 5000, foo: 1 } as unknown as z.infer<typeof EchoRequest>;

    const err = await sut.call(echo, bad).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RemoteCallError);
    expect(err).toMatchObject({ code: 'invalid_request' });
    expect((err as Error).message).toContain('unknown field "foo"');
    expect((err as Error).message).toContain('n: ');
  });

  it('hides an unexpected remote failure behind code internal', async () => {
    const err = await sut.call(failing, { requestId: 'r-4', n: 1 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RemoteCallError);
    expect(err).toMatchObject({ code: 'internal', message: 'internal error' });
  });

  it('fails with timeout when the handler does not answer in time', async () => {
    const started = Date.now();

    const err = await sut.call(slow, { requestId: 'r-5', n: 1 }, { timeoutMs: 200 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AdfunnelError);
    expect(err).toMatchObject({ code: 'timeout', message: `${slow.pattern} did not answer within 200 ms` });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails with unavailable naming the pattern when nobody listens', async () => {
    const err = await sut.call(nobody, { requestId: 'r-6', n: 1 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AdfunnelError);
    expect(err).toMatchObject({ code: 'unavailable' });
    expect((err as Error).message).toContain(nobody.pattern);
  });

  it('has each request answered once by one replica of the queue group', async () => {
    handled.clear();
    const count = 40;

    const replies = await Promise.all(
      Array.from({ length: count }, (_, n) => sut.call(echo, { requestId: `q-${n}`, n })),
    );

    expect(replies.map((r) => r.n)).toEqual(Array.from({ length: count }, (_, n) => n));
    expect((handled.get('a') ?? 0) + (handled.get('b') ?? 0)).toBe(count);
    expect(handled.get('a')).toBeGreaterThan(0);
    expect(handled.get('b')).toBeGreaterThan(0);
  });
});

describe('bus namespaces', () => {
  const apps: INestApplicationContext[] = [];
  const callers = new Map<string, BusClient>();
  // '' is the plain namespace a funnel started with `npm start` serves in.
  const served = ['', `ns-a-${run}`, `ns-b-${run}`];
  const unserved = `ns-c-${run}`;

  async function connectCaller(namespace: string): Promise<BusClient> {
    @Module({ imports: [BusModule.forRoot({ natsUrl: NATS_URL, timeoutMs: 1000, namespace })] })
    class NamespacedCallerModule {}
    const caller = await NestFactory.createApplicationContext(NamespacedCallerModule, { logger: false });
    await caller.init();
    apps.push(caller);
    return caller.get(BusClient);
  }

  beforeAll(async () => {
    // Funnels on one NATS, same patterns and queue group, different BUS_NAMESPACE.
    for (const namespace of served) {
      const server = await NestFactory.createMicroservice(replicaModule(`replica in '${namespace}'`), {
        ...natsServerOptions(NATS_URL, `adfunnel-test-${run}`, namespace),
        logger: false,
      });
      await server.listen();
      apps.push(server);
      callers.set(namespace, await connectCaller(namespace));
    }
    callers.set(unserved, await connectCaller(unserved));
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
  });

  it('keeps each namespace answering only its own requests, the plain one included', async () => {
    for (const namespace of served) {
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, n) => callers.get(namespace)!.call(echo, { requestId: `ns-${n}`, n })),
      );
      expect(new Set(replies.map((r) => r.replica))).toEqual(new Set([`replica in '${namespace}'`]));
    }
  });

  it('leaves a call in a namespace nobody serves unanswered, however many serve the pattern elsewhere', async () => {
    const err = await callers
      .get(unserved)!
      .call(echo, { requestId: 'ns-none', n: 1 })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AdfunnelError);
    expect(err).not.toBeInstanceOf(RemoteCallError);
    expect(err).toMatchObject({ code: 'unavailable', message: `no service is listening on ${echo.pattern}` });
  });
});
