import { AdfunnelError, type RpcContract } from '@adfunnel/contracts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BusClient } from '../bus/bus-client.service.js';
import { startService } from '../bootstrap/run-service.js';
import { serviceModule } from '../bootstrap/service.module.js';
import { CommonEnv } from '../config/common-env.js';
import { parseConfig } from '../config/load-config.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';

const run = randomUUID().slice(0, 8);
const namespace = `metrics_test_${run}`;
const METRICS_TOKEN = `scraper-token-${run}-0123456789abcdef`;

const EchoSchema = z.strictObject({ n: z.number().int() });
const echoRpc: RpcContract<typeof EchoSchema, z.ZodObject<{ n: z.ZodNumber }>> = {
  pattern: 'adfunnel.test.metrics.echo',
  request: EchoSchema,
  response: z.object({ n: z.number() }),
};
const heldRpc: RpcContract<z.ZodObject, z.ZodObject> = {
  pattern: 'adfunnel.test.metrics.held',
  request: z.object({}),
  response: z.object({}),
};
const unheardRpc: RpcContract<z.ZodObject, z.ZodObject> = {
  pattern: 'adfunnel.test.metrics.unheard',
  request: z.object({}),
  response: z.object({}),
};

/** A handler that answers only once the test lets it, so a caller's timeout needs no race. */
let releaseHeld: () => void = () => undefined;
const held = new Promise<void>((resolve) => (releaseHeld = resolve));

@Controller()
class ItemsController {
  @Get('items/:id')
  item(@Param('id') id: string) {
    if (id === 'gone') throw new AdfunnelError('not_found', `item ${id} does not exist`);
    return { id };
  }

  @MessagePattern(echoRpc.pattern)
  echo(@Payload(new ZodValidationPipe(EchoSchema)) body: z.infer<typeof EchoSchema>) {
    return { n: body.n };
  }

  @MessagePattern(heldRpc.pattern)
  async held() {
    await held;
    return {};
  }
}

@Module({})
class ItemsModule {}

async function startItems(env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const config = parseConfig(z.object(CommonEnv), {
    BUS_NAMESPACE: namespace,
    LOG_LEVEL: 'error',
    ...env,
  });
  return startService({
    name: 'items',
    module: serviceModule(ItemsModule, { name: 'items', config, controllers: [ItemsController] }),
    port: 0,
    host: '127.0.0.1',
    config,
    queueGroup: `items-${run}`,
  });
}

/** The value of the sample `name{labels}` in a scrape (labels in any order), undefined if absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries({ ...labels, service: 'items' }).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const present = match[2].split(/,(?=[a-z_]+=")/);
    if (present.length === wanted.length && wanted.every((label) => present.includes(label))) {
      return Number(match[3]);
    }
  }
  return undefined;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  return res.text();
}

describe('GET /metrics of a service started through serviceModule', () => {
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    app = await startItems();
    url = await app.getUrl();
  });

  afterAll(async () => {
    releaseHeld();
    await app?.close();
  });

  it('answers in the Prometheus text format with the process metrics, labelled by service', async () => {
    const res = await fetch(`${url}/metrics`);
    const text = await res.text();

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain('# TYPE adfunnel_http_requests_total counter');
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="items"\} \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{service="items"\} \d/m);
  });

  it('counts HTTP requests by route template, method and status, and times them', async () => {
    const before = await scrape(url);
    const labels = { route: '/items/:id', method: 'GET' };
    const countBefore = sample(before, 'adfunnel_http_requests_total', { ...labels, status_code: '200' });

    expect((await fetch(`${url}/items/a1`)).status).toBe(200);
    expect((await fetch(`${url}/items/b2`)).status).toBe(200);
    expect((await fetch(`${url}/items/gone`)).status).toBe(404);
    expect((await fetch(`${url}/no/such/path`)).status).toBe(404);
    const after = await scrape(url);

    expect(sample(after, 'adfunnel_http_requests_total', { ...labels, status_code: '200' })).toBe(
      (countBefore ?? 0) + 2,
    );
    expect(sample(after, 'adfunnel_http_requests_total', { ...labels, status_code: '404' })).toBe(1);
    expect(
      sample(after, 'adfunnel_http_requests_total', {
        route: 'unmatched',
        method: 'GET',
        status_code: '404',
      }),
    ).toBe(1);
    expect(sample(after, 'adfunnel_http_request_duration_seconds_count', labels)).toBe(
      (sample(before, 'adfunnel_http_request_duration_seconds_count', labels) ?? 0) + 3,
    );
    // The path as sent never becomes a label.
    expect(after).not.toContain('a1');
    expect(after).not.toContain('/no/such/path');
  });

  it('counts bus calls on the caller side and handled requests on the handler side, by outcome', async () => {
    const bus = app.get(BusClient);

    await expect(bus.call(echoRpc, { n: 1 })).resolves.toEqual({ n: 1 });
    await expect(bus.call(echoRpc, { n: 2 })).resolves.toEqual({ n: 2 });
    await expect(bus.call(echoRpc, { n: 0.5 })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(bus.call(heldRpc, {}, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'timeout' });
    await expect(bus.call(unheardRpc, {})).rejects.toMatchObject({ code: 'unavailable' });
    const text = await scrape(url);

    const echo = { pattern: echoRpc.pattern };
    expect(sample(text, 'adfunnel_bus_calls_total', { ...echo, outcome: 'ok' })).toBe(2);
    expect(sample(text, 'adfunnel_bus_calls_total', { ...echo, outcome: 'invalid_request' })).toBe(1);
    expect(sample(text, 'adfunnel_bus_call_duration_seconds_count', echo)).toBe(3);
    expect(sample(text, 'adfunnel_bus_handled_total', { ...echo, outcome: 'ok' })).toBe(2);
    expect(sample(text, 'adfunnel_bus_handled_total', { ...echo, outcome: 'invalid_request' })).toBe(1);
    expect(sample(text, 'adfunnel_bus_handle_duration_seconds_count', echo)).toBe(3);
    expect(sample(text, 'adfunnel_bus_calls_total', { pattern: heldRpc.pattern, outcome: 'timeout' })).toBe(
      1,
    );
    expect(
      sample(text, 'adfunnel_bus_calls_total', { pattern: unheardRpc.pattern, outcome: 'unavailable' }),
    ).toBe(1);
    // The namespace is the funnel's, not the pattern's.
    expect(text).not.toContain(namespace);
  });

  it('is open to the scraper when METRICS_TOKEN is unset', async () => {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer whatever' } });

    expect(res.status).toBe(200);
  });
});

describe('GET /metrics with METRICS_TOKEN set', () => {
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    app = await startItems({ METRICS_TOKEN });
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers 401 without the token or with another one, and the metrics with it', async () => {
    const missing = await fetch(`${url}/metrics`);
    const wrong = await fetch(`${url}/metrics`, {
      headers: { authorization: 'Bearer not-the-scraper-token-0123456789' },
    });

    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    await expect(missing.json()).resolves.toMatchObject({
      code: 'unauthenticated',
      reason: 'missing_credentials',
      message: 'METRICS_TOKEN is set on this service: send "Authorization: Bearer <METRICS_TOKEN>"',
    });
    expect(wrong.status).toBe(401);
    await expect(wrong.json()).resolves.toMatchObject({ reason: 'invalid_credentials' });
    const text = await scrape(url, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(
      sample(text, 'adfunnel_http_requests_total', { route: '/metrics', method: 'GET', status_code: '401' }),
    ).toBe(2);
  });
});
