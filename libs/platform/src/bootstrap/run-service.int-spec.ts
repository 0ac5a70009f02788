import { AdfunnelError, type RpcContract } from '@adfunnel/contracts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Injectable, Module, Post } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BusClient } from '../bus/bus-client.service.js';
import { BusModule } from '../bus/bus.module.js';
import { RemoteCallError } from '../bus/remote-call.error.js';
import { AppConfigModule } from '../config/app-config.module.js';
import { RequestId } from '../errors/request-id.decorator.js';
import { DatabaseProbe } from '../health/database.probe.js';
import { type HealthProbe, RegisterHealthProbe } from '../health/health-probe.js';
import { HealthModule } from '../health/health.module.js';
import { RedisProbe } from '../health/redis.probe.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';
import { startService } from './run-service.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const run = randomUUID().slice(0, 8);

const BidSchema = z.strictObject({ adId: z.number().int().positive(), bid: z.number().min(0).max(100) });
const bidRpc: RpcContract<typeof BidSchema, z.ZodObject<{ accepted: z.ZodBoolean }>> = {
  pattern: `adfunnel.test.platform.${run}.bid`,
  request: BidSchema,
  response: z.object({ accepted: z.boolean() }),
};

@Controller()
class TestController {
  @Post('bids')
  bid(
    @Body(new ZodValidationPipe(BidSchema)) body: z.infer<typeof BidSchema>,
    @RequestId() requestId: string,
  ) {
    return { accepted: true, adId: body.adId, requestId };
  }

  @Get('missing')
  missing(): never {
    throw new AdfunnelError('not_found', 'ad 99 does not exist');
  }

  @Get('crash')
  crash(): never {
    throw new Error('secret internal detail');
  }

  @MessagePattern(bidRpc.pattern)
  bidOverBus(@Payload(new ZodValidationPipe(BidSchema)) body: z.infer<typeof BidSchema>) {
    return { accepted: body.bid > 0 };
  }
}

/** A feature module that is not global brings its own probe; /health must still find it. */
@Injectable()
@RegisterHealthProbe()
class FeatureProbe implements HealthProbe {
  readonly name = 'feature';
  check(): Promise<Record<string, unknown>> {
    return Promise.resolve({ ready: true });
  }
}

@Module({ providers: [FeatureProbe] })
class FeatureModule {}

function testModule(redisUrl: string): new () => unknown {
  @Module({
    imports: [
      AppConfigModule.forRoot({ REDIS_URL: redisUrl }),
      BusModule.forRoot({ natsUrl: NATS_URL, timeoutMs: 1000, name: `platform-http-test-${run}` }),
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:' }),
      HealthModule,
      FeatureModule,
    ],
    controllers: [TestController],
    providers: [RedisProbe, DatabaseProbe],
  })
  class TestModule {}
  return TestModule;
}

async function start(redisUrl: string): Promise<{ app: NestFastifyApplication; url: string }> {
  const app = await startService({
    name: 'platform-test',
    module: testModule(redisUrl),
    port: 0,
    host: '127.0.0.1',
    config: { NATS_URL, BUS_NAMESPACE: '', LOG_FORMAT: 'pretty', LOG_LEVEL: 'error' },
    queueGroup: `adfunnel-test-http-${run}`,
    bodyLimitBytes: 1024,
  });
  const address = app.getHttpServer().address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  return { app, url: `http://127.0.0.1:${address.port}` };
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

describe(startService.name, () => {
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await start('redis://127.0.0.1:6379'));
  });

  afterAll(async () => {
    await app?.close();
  });

  it('serves a valid request and echoes the caller request id', async () => {
    const res = await post(`${url}/bids`, JSON.stringify({ adId: 1, bid: 2.5 }), {
      'x-request-id': 'client-42',
    });

    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('client-42');
    await expect(res.json()).resolves.toEqual({ accepted: true, adId: 1, requestId: 'client-42' });
  });

  it('gives a request without an id a generated one', async () => {
    const res = await post(`${url}/bids`, JSON.stringify({ adId: 1, bid: 1 }));

    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an invalid body with 400 naming the fields', async () => {
    const res = await post(`${url}/bids`, JSON.stringify({ adId: -1, bid: 500, foo: 'x' }), {
      'x-request-id': 'r-1',
    });
    const body = (await res.json()) as { code: string; message: string; requestId: string };

    expect(res.status).toBe(400);
    expect(body.code).toBe('invalid_request');
    expect(body.requestId).toBe('r-1');
    expect(body.message).toContain('adId: ');
    expect(body.message).toContain('bid: ');
    expect(body.message).toContain('unknown field "foo"');
  });

  it('answers an oversize body with 400 payload_too_large naming the limit', async () => {
    const res = await post(`${url}/bids`, JSON.stringify({ adId: 1, bid: 1, pad: 'x'.repeat(2000) }));

    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toMatchObject({
      code: 'payload_too_large',
      message: 'request body is larger than the limit of 1024 bytes',
    });
  });

  it('answers malformed JSON with 400 invalid_request', async () => {
    const res = await post(`${url}/bids`, '{"adId": 1,');

    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toMatchObject({
      code: 'invalid_request',
      message: 'request body is not valid JSON',
    });
  });

  it('answers an unsupported content type with 415 naming it and JSON', async () => {
    const res = await post(`${url}/bids`, 'a,b', { 'content-type': 'text/csv' });

    expect(res.status).toBe(415);
    await expect(res.json()).resolves.toMatchObject({
      code: 'unsupported_media_type',
      message: 'content type "text/csv" is not supported; send the body as application/json',
    });
  });

  it('maps a domain error and an unknown route to 404', async () => {
    const missing = await fetch(`${url}/missing`);
    const unknown = await fetch(`${url}/no-such-route`);

    expect(missing.status).toBe(404);
    await expect(missing.json()).resolves.toMatchObject({
      code: 'not_found',
      message: 'ad 99 does not exist',
    });
    expect(unknown.status).toBe(404);
    await expect(unknown.json()).resolves.toMatchObject({ code: 'not_found' });
  });

  it('answers an unexpected error with 500 and no internals', async () => {
    const res = await fetch(`${url}/crash`, { headers: { 'x-request-id': 'r-500' } });

    expect(res.status).toBe(500);
    await expect(res.json()).resolves.toEqual({
      code: 'internal',
      message: 'internal error',
      requestId: 'r-500',
    });
  });

  it('serves the same module over NATS with the pipes and filter applied', async () => {
    const bus = app.get(BusClient);

    await expect(bus.call(bidRpc, { adId: 1, bid: 3 })).resolves.toEqual({ accepted: true });
    const err = await bus.call(bidRpc, { adId: 0, bid: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteCallError);
    expect(err).toMatchObject({ code: 'invalid_request' });
  });

  it('reports every dependency up on GET /health', async () => {
    const res = await fetch(`${url}/health`);
    const body = (await res.json()) as { status: string; info: Record<string, { status: string }> };

    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info['nats']?.status).toBe('up');
    expect(body.info['redis']?.status).toBe('up');
    expect(body.info['database']?.status).toBe('up');
    expect(body.info['feature']).toEqual({ status: 'up', ready: true });
    expect(body.info['rejectedMessages']?.status).toBe('up');
    expect(body.info['expiredRequests']?.status).toBe('up');
    expect(Object.keys(body.info).sort()).toEqual([
      'database',
      'expiredRequests',
      'feature',
      'nats',
      'redis',
      'rejectedMessages',
    ]);
  });

  it('answers 503 naming the failing probe when a dependency is down', async () => {
    const broken = await start('redis://127.0.0.1:1');
    try {
      const res = await fetch(`${broken.url}/health`);
      const body = (await res.json()) as {
        status: string;
        error: Record<string, { status: string; message: string }>;
      };

      expect(res.status).toBe(503);
      expect(body.status).toBe('error');
      expect(body.error['redis']?.status).toBe('down');
      expect(body.error['redis']?.message).toMatch(
        /^cannot reach Redis at redis:\/\/127.0.0.1:1: .*ECONNREFUSED/,
      );
      expect(body.error['nats']).toBeUndefined();
    } finally {
      await broken.app.close();
    }
  });

  it('refuses to start when NATS is unreachable, naming NATS_URL', async () => {
    @Module({ imports: [BusModule.forRoot({ natsUrl: 'nats://127.0.0.1:1', timeoutMs: 1000 })] })
    class NoNatsModule {}

    const err = await startService({
      name: 'no-nats',
      module: NoNatsModule,
      port: 0,
      host: '127.0.0.1',
      config: { NATS_URL: 'nats://127.0.0.1:1', BUS_NAMESPACE: '', LOG_FORMAT: 'pretty', LOG_LEVEL: 'error' },
    }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AdfunnelError);
    expect((err as Error).message).toMatch(/^cannot connect to NATS at nats:\/\/127\.0\.0\.1:1 \(NATS_URL\)/);
    expect((err as Error).message).toContain('nats-server -js');
  });
});
