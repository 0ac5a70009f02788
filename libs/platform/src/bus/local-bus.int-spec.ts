import { AdfunnelError, type RpcContract } from '@adfunnel/contracts';
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
import { busSubject } from './bus.constants.js';
import { BusModule } from './bus.module.js';
import { ExpiredRequests } from './expired-requests.js';
import { localBus } from './local-bus.js';
import { RemoteCallError } from './remote-call.error.js';
import { DEADLINE_EXCEEDED } from './stage-deadline.js';
import { RejectExpired } from './stage-deadline.interceptor.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const run = randomUUID().slice(0, 8);
const namespace = `local-bus-test-${run}`;

const WorkSchema = z.strictObject({
  requestId: z.string().min(1),
  deadlineAt: z.number().int().positive(),
  workMs: z.number().int().min(0).max(5000),
});
type Work = z.infer<typeof WorkSchema>;
const Answer = z.object({ requestId: z.string(), handledBy: z.string() });
const work: RpcContract<typeof WorkSchema, typeof Answer> = {
  pattern: `adfunnel.test.local.${run}.work.v1`,
  request: WorkSchema,
  response: Answer,
};

/** The handler's answers, by request id: a local call hands back this very object. */
const answers = new Map<string, z.infer<typeof Answer>>();

@Controller()
class StageController {
  @MessagePattern(work.pattern)
  @RejectExpired('local-stage')
  async work(@Payload(new ZodValidationPipe(WorkSchema)) request: Work): Promise<z.infer<typeof Answer>> {
    if (request.workMs > 0) await new Promise((resolve) => setTimeout(resolve, request.workMs));
    if (request.requestId === 'boom') throw new AdfunnelError('unavailable', 'the stage has no model loaded');
    const answer = { requestId: request.requestId, handledBy: `stage-${run}` };
    answers.set(request.requestId, answer);
    return answer;
  }
}

function stageModule(local: boolean): new () => unknown {
  @Module({
    imports: [
      BusModule.forRoot({ natsUrl: NATS_URL, timeoutMs: 2000, name: `local-${run}`, namespace, local }),
      HealthModule,
    ],
    controllers: [StageController],
  })
  class StageModule {}
  return StageModule;
}

/** A caller in this process that is told not to use the local bus: it goes through NATS. */
@Module({
  imports: [
    BusModule.forRoot({ natsUrl: NATS_URL, timeoutMs: 2000, name: `remote-${run}`, namespace, local: false }),
    HealthModule,
  ],
})
class RemoteCallerModule {}

const config = { NATS_URL, BUS_NAMESPACE: namespace, LOG_FORMAT: 'json', LOG_LEVEL: 'error' } as const;

describe('the local bus (services co-located in one process)', () => {
  let stage: NestFastifyApplication;
  let remote: NestFastifyApplication;
  let bus: BusClient;
  const subject = busSubject(work.pattern, namespace);
  const request = (requestId: string, workMs = 0, deadlineAt = Date.now() + 10_000) => ({
    requestId,
    deadlineAt,
    workMs,
  });

  beforeAll(async () => {
    stage = await startService({
      name: 'local-stage',
      module: stageModule(true),
      port: 0,
      config,
      queueGroup: `local-stage-${run}`,
      localBus: true,
    });
    remote = await startService({ name: 'remote-caller', module: RemoteCallerModule, port: 0, config });
    bus = stage.get(BusClient);
  });

  afterAll(async () => {
    await remote?.close();
    await stage?.close();
  });

  it('hands a call in the same process to the handler directly: the answer is its very object', async () => {
    const answer = await bus.call(work, request('direct'));

    expect(answer).toBe(answers.get('direct'));
  });

  it('still serves the handler over NATS to callers elsewhere (a copy of the answer)', async () => {
    const answer = await remote.get(BusClient).call(work, request('over-nats'));

    expect(answer).toEqual({ requestId: 'over-nats', handledBy: `stage-${run}` });
    expect(answer).not.toBe(answers.get('over-nats'));
  });

  it('validates the payload with the handler pipe, as over NATS', async () => {
    const err = await bus
      .call(work, { requestId: '', deadlineAt: Date.now() + 10_000, workMs: 0 })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RemoteCallError);
    expect(err).toMatchObject({ code: 'invalid_request' });
    expect((err as Error).message).toContain('requestId');
  });

  it("refuses a request past its deadline before the handler runs, and counts it in the stage's /health", async () => {
    const err = await bus.call(work, request('late', 0, Date.now() - 5)).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'timeout', reason: DEADLINE_EXCEEDED });
    expect(answers.has('late')).toBe(false);
    expect(stage.get(ExpiredRequests).snapshot().byPattern[work.pattern]).toBe(1);
  });

  it("turns the handler's error into the same RemoteCallError as a NATS reply", async () => {
    const local = await bus.call(work, request('boom')).catch((e: unknown) => e);
    const overNats = await remote
      .get(BusClient)
      .call(work, request('boom'))
      .catch((e: unknown) => e);

    expect(local).toBeInstanceOf(RemoteCallError);
    expect(local).toMatchObject({ code: 'unavailable', message: 'the stage has no model loaded' });
    expect({ ...(local as object), message: (local as Error).message }).toEqual({
      ...(overNats as object),
      message: (overNats as Error).message,
    });
  });

  it('gives up on a slow handler after the call timeout, with code timeout', async () => {
    const err = await bus.call(work, request('slow', 2000), { timeoutMs: 100 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AdfunnelError);
    expect(err).toMatchObject({ code: 'timeout' });
    expect((err as Error).message).toBe(`${work.pattern} did not answer within 100 ms`);
    // The handler was still working when the caller gave up.
    expect(answers.has('slow')).toBe(false);
  });

  it('refuses a second handler for the same subject in one process', () => {
    expect(() => localBus.register(subject, () => Promise.resolve(undefined))).toThrow(
      `${subject} already has a handler in this process`,
    );
  });

  it('removes its handlers when the service closes, so calls go back to NATS', async () => {
    const other = await startService({
      name: 'local-stage-2',
      module: stageModule(true),
      port: 0,
      config: { ...config, BUS_NAMESPACE: `${namespace}-2` },
      queueGroup: `local-stage-2-${run}`,
      localBus: true,
    });
    const otherSubject = busSubject(work.pattern, `${namespace}-2`);
    expect(localBus.handler(otherSubject)).toEqual(expect.any(Function));

    await other.close();

    expect(localBus.handler(otherSubject)).toBeUndefined();
    expect(localBus.handler(subject)).toEqual(expect.any(Function));
  });
});
