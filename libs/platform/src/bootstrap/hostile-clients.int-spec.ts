import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { request as httpRequest, type Server } from 'node:http';
import { type Socket, connect } from 'node:net';
import { z } from 'zod';
import { RateLimited } from '../http/rate-limited.decorator.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';
import { type ServiceRuntimeConfig, startService } from './run-service.js';

const EchoSchema = z.strictObject({ a: z.number(), b: z.unknown().optional() });

@Controller()
class HostileClientsController {
  @Get('ping')
  ping() {
    return { pong: true };
  }

  @Post('echo')
  echo(@Body(new ZodValidationPipe(EchoSchema)) body: z.infer<typeof EchoSchema>) {
    return body;
  }

  @Get('limited')
  @RateLimited()
  limited() {
    return { ok: true };
  }
}

@Module({ controllers: [HostileClientsController] })
class HostileClientsModule {}

const quiet: ServiceRuntimeConfig = {
  NATS_URL: 'nats://127.0.0.1:4222',
  BUS_NAMESPACE: '',
  LOG_FORMAT: 'pretty',
  LOG_LEVEL: 'error',
};

interface Started {
  app: NestFastifyApplication;
  port: number;
  url: string;
}

async function start(config: Partial<ServiceRuntimeConfig>): Promise<Started> {
  const app = await startService({
    name: 'hostile-clients-test',
    module: HostileClientsModule,
    port: 0,
    host: '127.0.0.1',
    config: { ...quiet, ...config },
  });
  const address = app.getHttpServer().address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  return { app, port: address.port, url: `http://127.0.0.1:${address.port}` };
}

/** A raw TCP client: what it was sent back, and a promise that settles when the server closes it. */
interface RawClient {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    // A connection the server drops may end in a reset; either way it is closed.
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
  );
}

async function eventually(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { code?: string; message?: string; requestId?: string };
}

/** GET from a chosen loopback address (Linux routes all of 127/8 to lo), optionally with an API key. */
function getFrom(url: string, localAddress: string, authorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { localAddress, headers: authorization === undefined ? {} : { authorization } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(text) as Answer['body'],
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function postEcho(
  url: string,
  body: string | FormData | undefined,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${url}/echo`, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as { code: string; message: string } };
}

describe('a service facing slow and hostile clients', () => {
  describe('with short timeouts', () => {
    let service: Started;

    beforeAll(async () => {
      service = await start({
        HTTP_HEADERS_TIMEOUT_MS: 300,
        HTTP_REQUEST_TIMEOUT_MS: 600,
        HTTP_KEEP_ALIVE_TIMEOUT_MS: 300,
        RATE_LIMIT_PER_MINUTE: 3,
      });
    });

    afterAll(async () => {
      await service?.app.close();
    });

    it('disconnects a client that sends half its headers and stalls, with 408', async () => {
      const client = await rawClient(service.port);
      client.socket.write('GET /ping HTTP/1.1\r\nHost: test\r\nAccept: appl');

      await client.closed;

      expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    });

    it('disconnects a client that connects and sends nothing', async () => {
      const client = await rawClient(service.port);

      await client.closed;

      expect(client.received()).not.toContain('200 OK');
    });

    it('disconnects a client that sends its headers and half its body, with 408', async () => {
      const client = await rawClient(service.port);
      client.socket.write(
        'POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"a":',
      );

      await client.closed;

      expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    });

    it('closes an idle keep-alive connection after answering on it', async () => {
      const client = await rawClient(service.port);
      client.socket.write('GET /ping HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n');

      await client.closed;

      expect(client.received()).toMatch(/^HTTP\/1\.1 200 /);
      expect(client.received()).toContain('{"pong":true}');
    });

    it.each([
      ['application/x-www-form-urlencoded', 'a=1'],
      ['text/plain', '{"a":1}'],
      ['text/csv', 'a\n1'],
    ])('refuses a %s body with 415 naming the type', async (type, body) => {
      const res = await postEcho(service.url, body, { 'content-type': type });

      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({
        code: 'unsupported_media_type',
        message: `content type "${type}" is not supported; send the body as application/json`,
      });
    });

    it('refuses a multipart body with 415 naming the type', async () => {
      const form = new FormData();
      form.set('a', '1');

      const res = await postEcho(service.url, form);

      expect(res.status).toBe(415);
      expect(res.body.code).toBe('unsupported_media_type');
      expect(res.body.message).toMatch(
        /^content type "multipart\/form-data; boundary=.+" is not supported; send the body as application\/json$/,
      );
    });

    it('refuses a body without a content type with 415', async () => {
      const client = await rawClient(service.port);
      client.socket.write(
        'POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}',
      );

      await client.closed;

      expect(client.received()).toMatch(/^HTTP\/1\.1 415 /);
      expect(client.received()).toContain(
        'request has a body but no content-type; send it as application/json',
      );
    });

    it('answers a POST with no body and no content type with 400 saying the body is missing', async () => {
      const res = await postEcho(service.url, undefined);

      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        code: 'invalid_request',
        message: 'request body is missing; send a JSON object with content-type application/json',
      });
    });

    it.each([
      ['{"a":1,"__proto__":{"polluted":true}}', '__proto__'],
      ['{"a":1,"\\u005f_proto__":{"polluted":true}}', '__proto__'],
      ['{"a":1,"b":[{"constructor":{"prototype":{"polluted":true}}}]}', 'b[0].constructor.prototype'],
    ])('refuses %s with 400 naming the forbidden key', async (body, key) => {
      const res = await postEcho(service.url, body, { 'content-type': 'application/json' });

      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        code: 'invalid_request',
        message: `request body contains a forbidden key ${key}`,
      });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('still reads a JSON body that merely mentions a constructor', async () => {
      const res = await postEcho(service.url, '{"a":1,"b":{"constructor":"Foo","proto":1}}', {
        'content-type': 'application/json; charset=utf-8',
      });

      expect(res.status).toBe(201);
      expect(res.body).toEqual({ a: 1, b: { constructor: 'Foo', proto: 1 } });
    });

    it('answers 429 with Retry-After once a client is over its limit, and not on other routes', async () => {
      const answers: Answer[] = [];
      for (let i = 0; i < 4; i++) answers.push(await getFrom(`${service.url}/limited`, '127.0.0.2'));

      expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 200, 200]);
      const refused = answers[3];
      expect(refused?.status).toBe(429);
      expect(Number(refused?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused?.headers['retry-after'])).toBeLessThanOrEqual(20);
      expect(refused?.body).toMatchObject({
        code: 'rate_limited',
        message: expect.stringMatching(
          /^too many requests to GET \/limited from 127\.0\.0\.2: the limit is 3 a minute; retry in \d+ s$/,
        ) as unknown,
      });
      expect(refused?.body.requestId).toBe(refused?.headers['x-request-id']);
      // Another client, and an unmarked route for this one, are not limited.
      await expect(getFrom(`${service.url}/limited`, '127.0.0.3')).resolves.toMatchObject({ status: 200 });
      const ping = await fetch(`${service.url}/ping`);
      expect(ping.status).toBe(200);
    });

    it('limits an API key across client addresses', async () => {
      const key = 'Bearer adf_test_key';
      for (let i = 0; i < 3; i++) {
        await expect(getFrom(`${service.url}/limited`, '127.0.0.4', key)).resolves.toMatchObject({
          status: 200,
        });
      }

      const elsewhere = await getFrom(`${service.url}/limited`, '127.0.0.5', key);

      expect(elsewhere.status).toBe(429);
      expect(elsewhere.body.message).toContain('with this API key');
      await expect(getFrom(`${service.url}/limited`, '127.0.0.5')).resolves.toMatchObject({ status: 200 });
    });
  });

  it('does not limit requests when RATE_LIMIT_PER_MINUTE is 0', async () => {
    const service = await start({ RATE_LIMIT_PER_MINUTE: 0 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++)
        statuses.push((await getFrom(`${service.url}/limited`, '127.0.0.6')).status);

      expect(statuses).toEqual(Array.from({ length: 20 }, () => 200));
    } finally {
      await service.app.close();
    }
  });

  describe('with many idle connections', () => {
    const services: Started[] = [];
    const idle: RawClient[] = [];

    afterAll(async () => {
      for (const client of idle) client.socket.destroy();
      await Promise.all(services.map((service) => service.app.close()));
    });

    async function started(config: Partial<ServiceRuntimeConfig>): Promise<[Started, Server]> {
      const service = await start(config);
      services.push(service);
      return [service, service.app.getHttpServer()];
    }

    /** 100 at a time, each batch accepted before the next, so that none waits in a full listen backlog. */
    async function openIdle(service: Started, server: Server, count: number): Promise<void> {
      let accepted = 0;
      const onConnection = () => accepted++;
      server.on('connection', onConnection);
      for (let opened = 0; opened < count; opened += 100) {
        idle.push(...(await Promise.all(Array.from({ length: 100 }, () => rawClient(service.port)))));
        await eventually(() => accepted >= opened + 100, `connection ${opened + 100} accepted`);
      }
      server.off('connection', onConnection);
    }

    it('closes a connection beyond the cap at once, and answers again once there is room', async () => {
      const cap = 1000;
      const [service, server] = await started({
        HTTP_HEADERS_TIMEOUT_MS: 60_000,
        HTTP_REQUEST_TIMEOUT_MS: 60_000,
        HTTP_MAX_CONNECTIONS: cap,
      });
      await openIdle(service, server, cap);
      expect(await connectionCount(server)).toBe(cap);

      const beyond = await rawClient(service.port);
      beyond.socket.write('GET /ping HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
      await beyond.closed;

      expect(beyond.received()).toBe('');
      expect(await connectionCount(server)).toBe(cap);
      idle.splice(0, 10).forEach((client) => client.socket.destroy());
      await eventually(async () => (await connectionCount(server)) < cap, 'room');
      await expect(fetch(`${service.url}/ping`)).resolves.toMatchObject({ status: 200 });
    }, 60_000);

    it('reaps thousands of idle connections on its own, then answers', async () => {
      const [service, server] = await started({
        HTTP_HEADERS_TIMEOUT_MS: 1000,
        HTTP_REQUEST_TIMEOUT_MS: 1000,
      });
      const first = idle.length;
      await openIdle(service, server, 2500);

      await Promise.all(idle.slice(first).map((client) => client.closed));

      expect(await connectionCount(server)).toBe(0);
      await expect(fetch(`${service.url}/ping`)).resolves.toMatchObject({ status: 200 });
    }, 60_000);
  });
});
