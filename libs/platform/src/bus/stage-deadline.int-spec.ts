import { type RpcContract } from '@adfunnel/contracts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { startService } from '../bootstrap/run-service.js';
import { HealthModule } from '../health/health.module.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';
import { BusClient } from './bus-client.service.js';
import { BusModule } from './bus.module.js';
import { RemoteCallError } from './remote-call.error.js';
import { assertBeforeDeadline, DEADLINE_EXCEEDED } from './stage-deadline.js';
import { RejectExpired } from './stage-deadline.interceptor.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const run = randomUUID().slice(0, 8);
const namespace = `stage-deadline-test-${run}`;

const WorkSchema = z.strictObject({
  requestId: z.string().min(1),
  deadlineAt: z.number().int().positive(),
  /** The handler's own check runs after this long, as a stage's does after a Redis read. */
  workMs: z.number().int().min(0).max(1000),
});
type Work = z.infer<typeof WorkSchema>;
const contract = (name: string): RpcContract<typeof WorkSchema, z.ZodObject<{ done: z.ZodString }>> => ({
  pattern: `adfunnel.test.${name}.v1`,
  request: WorkSchema,
  response: z.object({ done: z.string() }),
});
const marked = contract('marked');
const unmarked = contract('unmarked');

/** What the handlers were asked to do: a refused request never gets here. */
const handled: string[] = [];

@Controller()
class StageController {
  @MessagePattern(marked.pattern)
  @RejectExpired('test-stage')
  async work(@Payload(new ZodValidationPipe(WorkSchema)) request: Work): Promise<{ done: string }> {
    handled.push(request.requestId);
    await new Promise((resolve) => setTimeout(resolve, request.workMs));
    assertBeforeDeadline('test-stage', request);
    return { done: request.requestId };
  }

  @MessagePattern(unmarked.pattern)
  unmarked(@Payload(new ZodValidationPipe(WorkSchema)) request: Work): { done: string } {
    handled.push(request.requestId);
    return { done: request.requestId };
  }
}

@Module({
  imports: [
    BusModule.forRoot({ natsUrl: NATS_URL, timeoutMs: 2000, name: `stage-${run}`, namespace }),
    HealthModule,
  ],
  controllers: [StageController],
})
class StageModule {}

describe(RejectExpired.name, () => {
  let app: NestFastifyApplication;
  let url: string;
  let caller: BusClient;

  beforeAll(async () => {
    app = await startService({
      name: 'stage-deadline-test',
      module: StageModule,
      port: 0,
      config: { NATS_URL, BUS_NAMESPACE: namespace, LOG_FORMAT: 'pretty', LOG_LEVEL: 'error' },
      queueGroup: `stage-deadline-test-${run}`,
    });
    url = await app.getUrl();
    caller = new BusClient({ natsUrl: NATS_URL, timeoutMs: 2000, name: `caller-${run}`, namespace });
    await caller.onModuleInit();
  });

  afterAll(async () => {
    await caller?.onApplicationShutdown();
    await app?.close();
  });

  const expiredRequests = async (): Promise<unknown> => {
    const health = (await (await fetch(`${url}/health`)).json()) as { info: Record<string, unknown> };
    return health.info['expiredRequests'];
  };

  it('answers timeout / deadline_exceeded for a request already past its deadline, without running the handler', async () => {
    const request = { requestId: `late-${run}`, deadlineAt: Date.now() - 5, workMs: 0 };

    const err = await caller.call(marked, request).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RemoteCallError);
    expect(err).toMatchObject({ code: 'timeout', reason: DEADLINE_EXCEEDED, pattern: marked.pattern });
    expect((err as Error).message).toMatch(
      new RegExp(`^request late-${run} reached test-stage \\d+ ms after its deadline$`),
    );
    expect(handled).not.toContain(request.requestId);
    await expect(expiredRequests()).resolves.toMatchObject({ total: 1, byPattern: { [marked.pattern]: 1 } });
  });

  it('refuses before validating the payload, so an expired request costs no schema work', async () => {
    const bad = { requestId: `late-bad-${run}`, deadlineAt: Date.now() - 5, workMs: 5000, extra: true };

    const err = await caller.call(marked, bad as unknown as Work).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'timeout', reason: DEADLINE_EXCEEDED });
  });

  it('serves a request within its deadline, and counts one that expires while the handler works', async () => {
    const before = (await expiredRequests()) as { total: number };
    const onTime = { requestId: `on-time-${run}`, deadlineAt: Date.now() + 10_000, workMs: 0 };
    await expect(caller.call(marked, onTime)).resolves.toEqual({ done: onTime.requestId });

    const expiring = { requestId: `expiring-${run}`, deadlineAt: Date.now() + 50, workMs: 300 };
    const err = await caller.call(marked, expiring).catch((e: unknown) => e);

    expect(handled).toContain(expiring.requestId);
    expect(err).toMatchObject({ code: 'timeout', reason: DEADLINE_EXCEEDED });
    await expect(expiredRequests()).resolves.toMatchObject({ total: before.total + 1 });
  });

  it('leaves handlers without the mark alone', async () => {
    const request = { requestId: `unmarked-${run}`, deadlineAt: Date.now() - 5, workMs: 0 };

    await expect(caller.call(unmarked, request)).resolves.toEqual({ done: request.requestId });
  });
});
