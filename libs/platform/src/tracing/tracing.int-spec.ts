import type { RpcContract } from '@adfunnel/contracts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, Post, type Type } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { startService } from '../bootstrap/run-service.js';
import { BusClient } from '../bus/bus-client.service.js';
import { BusModule } from '../bus/bus.module.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';
import { ATTR_BUS_OUTCOME } from './bus-spans.js';
import { disableTracing, enableTracing } from './tracing.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const run = randomUUID().slice(0, 8);
const namespace = `tracing-test-${run}`;
const config = { NATS_URL, BUS_NAMESPACE: namespace, LOG_FORMAT: 'json', LOG_LEVEL: 'error' } as const;

const Work = z.strictObject({ requestId: z.string().min(1) });
const Done = z.object({ handledBy: z.string() });
const contract = (stage: string): RpcContract<typeof Work, typeof Done> => ({
  pattern: `adfunnel.test.tracing.${run}.${stage}.v1`,
  request: Work,
  response: Done,
});
const remoteStage = contract('remote');
const localStage = contract('local');

function stageController(rpc: RpcContract<typeof Work, typeof Done>, name: string): Type<unknown> {
  @Controller()
  class StageController {
    @MessagePattern(rpc.pattern)
    work(@Payload(new ZodValidationPipe(Work)) _request: z.infer<typeof Work>): z.infer<typeof Done> {
      return { handledBy: name };
    }
  }
  return StageController;
}

function serviceModuleOf(name: string, controllers: Type<unknown>[]): Type<unknown> {
  @Module({
    imports: [BusModule.forRoot({ natsUrl: NATS_URL, timeoutMs: 2000, name, namespace })],
    controllers,
  })
  class ServiceModule {}
  return ServiceModule;
}

/** The front door: one HTTP request calls a stage in another service over NATS, then one in this process. */
@Controller('v1')
class FrontController {
  constructor(private readonly bus: BusClient) {}

  @Post('work')
  async work(): Promise<unknown> {
    const requestId = randomUUID();
    const remote = await this.bus.call(remoteStage, { requestId });
    const local = await this.bus.call(localStage, { requestId });
    return { remote, local };
  }
}

const exporter = new InMemorySpanExporter();

const serviceOf = (span: ReadableSpan) => span.resource.attributes['service.name'];
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('traces across the bus', () => {
  const apps: NestFastifyApplication[] = [];
  let baseUrl: string;

  beforeAll(async () => {
    enableTracing({ exporter });
    // Over NATS only: no local bus, so the front service's call crosses nats-server.
    apps.push(
      await startService({
        name: 'remote-stage',
        module: serviceModuleOf('remote-stage', [stageController(remoteStage, 'remote')]),
        port: 0,
        config,
        queueGroup: `remote-${run}`,
      }),
    );
    // Co-located with the front service: its calls take the local bus.
    apps.push(
      await startService({
        name: 'local-stage',
        module: serviceModuleOf('local-stage', [stageController(localStage, 'local')]),
        port: 0,
        config,
        queueGroup: `local-${run}`,
        localBus: true,
      }),
    );
    const front = await startService({
      name: 'front',
      module: serviceModuleOf('front', [FrontController]),
      port: 0,
      config,
    });
    apps.push(front);
    baseUrl = await front.getUrl();
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await disableTracing();
  });

  /** Sends one request and collects its spans, the HTTP server span being the last to end. */
  async function traceOf(traceparent?: string): Promise<ReadableSpan[]> {
    exporter.reset();
    const response = await fetch(`${baseUrl}/v1/work`, {
      method: 'POST',
      headers: traceparent === undefined ? {} : { traceparent },
    });
    expect(response.status).toBe(201);
    await response.arrayBuffer();
    const isHttpSpan = (span: ReadableSpan) => span.name === 'POST /v1/work';
    while (!exporter.getFinishedSpans().some(isHttpSpan)) await new Promise((r) => setImmediate(r));
    return exporter.getFinishedSpans();
  }

  it('makes one request one trace: the HTTP span, then a client and a server span per stage call', async () => {
    const spans = await traceOf();

    const http = spans.find((s) => s.name === 'POST /v1/work');
    expect(http).toMatchObject({ kind: SpanKind.SERVER });
    expect(serviceOf(http!)).toBe('front');
    expect(parentOf(http!)).toBeUndefined();
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(
      new Set([http!.spanContext().traceId]),
    );
    expect(spans.map((s) => `${String(serviceOf(s))} ${s.name}`).sort()).toEqual(
      [
        'front POST /v1/work',
        `front ${remoteStage.pattern}`,
        `remote-stage ${remoteStage.pattern}`,
        `front ${localStage.pattern}`,
        `local-stage ${localStage.pattern}`,
      ].sort(),
    );
  });

  it.each([
    ['over NATS (the trace context in the message headers)', remoteStage.pattern],
    ['on the local bus (the context of the call itself)', localStage.pattern],
  ])('makes a stage handler the child of its caller’s span %s', async (_how, pattern) => {
    const spans = await traceOf();
    const http = spans.find((s) => s.name === 'POST /v1/work')!;

    const client = spans.find((s) => s.name === pattern && s.kind === SpanKind.CLIENT)!;
    const server = spans.find((s) => s.name === pattern && s.kind === SpanKind.SERVER)!;
    expect(parentOf(client)).toBe(http.spanContext().spanId);
    expect(parentOf(server)).toBe(client.spanContext().spanId);
    expect(client.attributes[ATTR_BUS_OUTCOME]).toBe('ok');
    expect(server.attributes[ATTR_BUS_OUTCOME]).toBe('ok');
  });

  it('gives each request a trace of its own', async () => {
    const first = (await traceOf())[0].spanContext().traceId;
    const second = (await traceOf())[0].spanContext().traceId;

    expect(first).not.toBe(second);
  });

  it("continues a caller's trace sent in traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spans = await traceOf(`00-${traceId}-00f067aa0ba902b7-01`);

    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    expect(parentOf(spans.find((s) => s.name === 'POST /v1/work')!)).toBe('00f067aa0ba902b7');
  });
});
