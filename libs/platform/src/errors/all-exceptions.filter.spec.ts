import { AdfunnelError } from '@adfunnel/contracts';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  type ArgumentsHost,
  BadRequestException,
  HttpException,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { lastValueFrom, type Observable } from 'rxjs';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { RateLimitedError } from './rate-limited.error.js';

interface SentReply {
  status?: number;
  body?: unknown;
  headers: Record<string, string>;
}

function fastifyError(code: string, statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { name: 'FastifyError', code, statusCode });
}

/** The way Nest's FastifyAdapter hands a 4xx Fastify error to the filters. */
function wrapped(error: Error & { statusCode?: number }): HttpException {
  return new HttpException(error.message, error.statusCode ?? 500, { cause: error });
}

function httpHost(
  request: Partial<FastifyRequest>,
  sent: SentReply,
  replyHeaders: Record<string, string> = {},
): ArgumentsHost {
  const reply = {
    sent: false,
    getHeader: (name: string) => replyHeaders[name],
    header(name: string, value: string) {
      sent.headers[name] = value;
      return this;
    },
    status(code: number) {
      sent.status = code;
      return this;
    },
    send(body: unknown) {
      sent.body = body;
      return this;
    },
  } as unknown as FastifyReply;
  const req = { method: 'POST', url: '/v1/ads', headers: {}, ...request } as FastifyRequest;
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply, getNext: () => undefined }),
  } as unknown as ArgumentsHost;
}

function rpcHost(data: unknown): ArgumentsHost {
  return {
    getType: () => 'rpc',
    switchToRpc: () => ({
      getData: () => data,
      getContext: () => ({ getSubject: () => 'adfunnel.test.v1' }),
    }),
  } as unknown as ArgumentsHost;
}

function silenceErrorLog() {
  return jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
}

describe(AllExceptionsFilter.name, () => {
  let sut: AllExceptionsFilter;
  let sent: SentReply;
  let errorLog: ReturnType<typeof silenceErrorLog>;

  beforeEach(() => {
    sut = new AllExceptionsFilter();
    sent = { headers: {} };
    errorLog = silenceErrorLog();
  });

  afterEach(() => errorLog.mockRestore());

  describe('over HTTP', () => {
    it('answers an AdfunnelError with the status of its code and the request id', () => {
      sut.catch(
        new AdfunnelError('not_found', 'ad 7 does not exist'),
        httpHost({}, sent, { 'x-request-id': 'req-1' }),
      );

      expect(sent.status).toBe(404);
      expect(sent.body).toEqual({ code: 'not_found', message: 'ad 7 does not exist', requestId: 'req-1' });
      expect(sent.headers['x-request-id']).toBe('req-1');
      expect(errorLog).not.toHaveBeenCalled();
    });

    it('maps invalid_request to 400, timeout to 504 and unavailable to 503', () => {
      const statusOf = (code: 'invalid_request' | 'timeout' | 'unavailable'): number | undefined => {
        const out: SentReply = { headers: {} };
        sut.catch(new AdfunnelError(code, 'x'), httpHost({}, out));
        return out.status;
      };

      expect([statusOf('invalid_request'), statusOf('timeout'), statusOf('unavailable')]).toEqual([
        400, 504, 503,
      ]);
    });

    it('maps unauthenticated to 401, forbidden to 403 and unprocessable to 422, with the reason of the error', () => {
      const answerOf = (
        code: 'unauthenticated' | 'forbidden' | 'unprocessable',
        reason: string,
      ): SentReply => {
        const out: SentReply = { headers: {} };
        sut.catch(
          new AdfunnelError(code, `refused: ${reason}`, reason),
          httpHost({}, out, { 'x-request-id': 'r' }),
        );
        return out;
      };

      expect(answerOf('unauthenticated', 'missing_credentials')).toMatchObject({
        status: 401,
        body: {
          code: 'unauthenticated',
          message: 'refused: missing_credentials',
          reason: 'missing_credentials',
          requestId: 'r',
        },
      });
      expect(answerOf('forbidden', 'wrong_advertiser').status).toBe(403);
      expect(answerOf('unprocessable', 'outside_window').status).toBe(422);
    });

    it('uses the caller request id header when there is no reply header yet', () => {
      sut.catch(
        new AdfunnelError('invalid_request', 'bad'),
        httpHost({ headers: { 'x-request-id': 'abc-123' } }, sent),
      );

      expect(sent.body).toMatchObject({ requestId: 'abc-123' });
    });

    it('generates a request id when the header is missing or unsafe', () => {
      sut.catch(
        new AdfunnelError('invalid_request', 'bad'),
        httpHost({ headers: { 'x-request-id': 'a b\n' } }, sent),
      );

      expect((sent.body as { requestId: string }).requestId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('maps Nest HttpExceptions to their status and a code', () => {
      sut.catch(new NotFoundException('Cannot GET /nope'), httpHost({}, sent, { 'x-request-id': 'r' }));
      expect(sent).toMatchObject({ status: 404, body: { code: 'not_found', message: 'Cannot GET /nope' } });

      sut.catch(
        new BadRequestException(['a is bad', 'b is bad']),
        httpHost({}, sent, { 'x-request-id': 'r' }),
      );
      expect(sent).toMatchObject({
        status: 400,
        body: { code: 'invalid_request', message: 'a is bad; b is bad' },
      });
    });

    it('answers an oversize body with 400 payload_too_large naming the limit', () => {
      const tooLarge = wrapped(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large'));

      sut.catch(
        tooLarge,
        httpHost({ routeOptions: { bodyLimit: 65536 } as FastifyRequest['routeOptions'] }, sent),
      );

      expect(sent.status).toBe(400);
      expect(sent.body).toMatchObject({
        code: 'payload_too_large',
        message: 'request body is larger than the limit of 65536 bytes',
      });
    });

    it('answers any other 413 with 400 payload_too_large too', () => {
      sut.catch(new PayloadTooLargeException(), httpHost({}, sent));

      expect(sent).toMatchObject({ status: 400, body: { code: 'payload_too_large' } });
    });

    it('answers a body that is not JSON with 400 invalid_request', () => {
      const invalid = wrapped(fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400, 'Body is not valid JSON'));

      sut.catch(invalid, httpHost({}, sent));

      expect(sent).toMatchObject({
        status: 400,
        body: { code: 'invalid_request', message: 'request body is not valid JSON' },
      });
    });

    it('answers an unsupported content type with 415 naming the type and JSON', () => {
      const unsupported = wrapped(
        fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'Unsupported Media Type'),
      );

      sut.catch(unsupported, httpHost({ headers: { 'content-type': 'text/csv' } }, sent));

      expect(sent).toMatchObject({
        status: 415,
        body: {
          code: 'unsupported_media_type',
          message: 'content type "text/csv" is not supported; send the body as application/json',
        },
      });
    });

    it('answers a body without a content type with 415 saying so', () => {
      const unsupported = wrapped(
        fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'Unsupported Media Type'),
      );

      sut.catch(unsupported, httpHost({ headers: {} }, sent));

      expect(sent).toMatchObject({
        status: 415,
        body: {
          code: 'unsupported_media_type',
          message: 'request has a body but no content-type; send it as application/json',
        },
      });
    });

    it('answers a body cut off by the request timeout with 400 and logs nothing', () => {
      const reset = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });

      sut.catch(reset, httpHost({}, sent));

      expect(sent).toMatchObject({
        status: 400,
        body: { code: 'invalid_request', message: 'the connection closed before the request body arrived' },
      });
      expect(errorLog).not.toHaveBeenCalled();
    });

    it('answers a rate-limited request with 429 and Retry-After in seconds', () => {
      sut.catch(
        new RateLimitedError('too many requests', 7),
        httpHost({}, sent, { 'x-request-id': 'r-429' }),
      );

      expect(sent.status).toBe(429);
      expect(sent.headers['retry-after']).toBe('7');
      expect(sent.body).toEqual({ code: 'rate_limited', message: 'too many requests', requestId: 'r-429' });
    });

    it('answers an unexpected error with 500 internal, logging the stack with the request id', () => {
      const boom = new TypeError("Cannot read properties of undefined (reading 'bid')");

      sut.catch(boom, httpHost({}, sent, { 'x-request-id': 'req-9' }));

      expect(sent.status).toBe(500);
      expect(sent.body).toEqual({ code: 'internal', message: 'internal error', requestId: 'req-9' });
      expect(errorLog).toHaveBeenCalledTimes(1);
      const [message, stack] = errorLog.mock.calls[0] as [string, string];
      expect(message).toContain('req-9');
      expect(message).toContain("reading 'bid'");
      expect(stack).toContain('TypeError');
      expect(JSON.stringify(sent.body)).not.toContain('TypeError');
    });
  });

  describe('over RPC', () => {
    async function rpcError(exception: unknown, data: unknown = { requestId: 'req-5' }): Promise<unknown> {
      const result = sut.catch(exception, rpcHost(data)) as Observable<never>;
      return lastValueFrom(result).catch((e: unknown) => e);
    }

    it('keeps the code and message of an AdfunnelError', async () => {
      await expect(rpcError(new AdfunnelError('not_found', 'ad 3 does not exist'))).resolves.toEqual({
        code: 'not_found',
        message: 'ad 3 does not exist',
        requestId: 'req-5',
      });
    });

    it('passes an RpcException carrying an error body through', async () => {
      await expect(
        rpcError(new RpcException({ code: 'not_ready', message: 'index loading' }), {}),
      ).resolves.toEqual({
        code: 'not_ready',
        message: 'index loading',
      });
    });

    it('hides an unexpected error behind internal and logs it with the request id', async () => {
      await expect(rpcError(new Error('disk full'))).resolves.toEqual({
        code: 'internal',
        message: 'internal error',
        requestId: 'req-5',
      });
      const [message] = errorLog.mock.calls[0] as [string];
      expect(message).toContain('req-5');
      expect(message).toContain('adfunnel.test.v1');
      expect(message).toContain('disk full');
    });
  });
});
