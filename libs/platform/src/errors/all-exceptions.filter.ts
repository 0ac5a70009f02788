import {
  AdfunnelError,
  type ErrorBody,
  type ErrorCode,
  HTTP_STATUS_BY_CODE,
  isErrorBody,
} from '@adfunnel/contracts';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Observable, throwError } from 'rxjs';
import { RateLimitedError } from './rate-limited.error.js';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';

interface HttpAnswer {
  status: number;
  body: ErrorBody;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  408: 'timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  500: 'internal',
  503: 'unavailable',
  504: 'timeout',
};

/**
 * The one place errors become answers. HTTP: `{ code, message, requestId }` with the status of the
 * code; RPC: the `{ code, message }` body the Nest NATS client receives as its error. An unexpected
 * error is logged with its stack and the request id, and the client only sees `internal error`.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): unknown {
    switch (host.getType<string>()) {
      case 'http':
        return this.catchHttp(exception, host);
      case 'rpc':
        return this.catchRpc(exception, host);
      default:
        this.logUnexpected(exception, `in ${host.getType()} context`);
        return undefined;
    }
  }

  private catchHttp(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const requestId = requestIdOf(request, reply);
    const answer = this.toHttpAnswer(exception, request, requestId);
    if (reply.sent) {
      this.logger.warn(
        `request ${requestId}: ${answer.body.code} after the reply was sent: ${answer.body.message}`,
      );
      return;
    }
    if (exception instanceof RateLimitedError) {
      void reply.header('retry-after', String(exception.retryAfterSeconds));
    }
    void reply.header(REQUEST_ID_HEADER, requestId).status(answer.status).send(answer.body);
  }

  /** Exposed for tests and for code that answers errors itself. */
  toHttpAnswer(exception: unknown, request: FastifyRequest, requestId: string): HttpAnswer {
    if (exception instanceof AdfunnelError) {
      if (exception.code === 'internal') this.logUnexpected(exception, `request ${requestId}`);
      return { status: HTTP_STATUS_BY_CODE[exception.code], body: exception.toBody(requestId) };
    }
    const bodyProblem = describeBodyProblem(bodyErrorCode(exception), request);
    if (bodyProblem) return answer(bodyProblem[0], bodyProblem[1], requestId);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = codeForStatus(status);
      if (status >= 500) this.logUnexpected(exception, `request ${requestId}`);
      const httpStatus = code === 'payload_too_large' ? HTTP_STATUS_BY_CODE.payload_too_large : status;
      return { status: httpStatus, body: { code, message: httpExceptionMessage(exception), requestId } };
    }
    this.logUnexpected(exception, `request ${requestId} ${request.method} ${request.url}`);
    return answer('internal', 'internal error', requestId);
  }

  private catchRpc(exception: unknown, host: ArgumentsHost): Observable<never> {
    const rpc = host.switchToRpc();
    const data: unknown = rpc.getData();
    const requestId = isRecord(data) && typeof data['requestId'] === 'string' ? data['requestId'] : undefined;
    const body = this.toRpcBody(exception, requestId, subjectOf(rpc.getContext()));
    return throwError(() => body);
  }

  toRpcBody(exception: unknown, requestId: string | undefined, subject = 'rpc'): ErrorBody {
    const withId = (code: ErrorCode, message: string): ErrorBody =>
      requestId === undefined ? { code, message } : { code, message, requestId };
    if (exception instanceof AdfunnelError) {
      if (exception.code === 'internal')
        this.logUnexpected(exception, `${subject} request ${requestId ?? '-'}`);
      // The reason crosses the bus too: a caller tells e.g. deadline_exceeded from a slow stage.
      return exception.toBody(requestId);
    }
    if (exception instanceof RpcException) {
      const error = exception.getError();
      if (isErrorBody(error)) return withId(error.code, error.message);
      return withId('internal', typeof error === 'string' ? error : 'internal error');
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500) this.logUnexpected(exception, `${subject} request ${requestId ?? '-'}`);
      return withId(codeForStatus(status), httpExceptionMessage(exception));
    }
    this.logUnexpected(exception, `${subject} request ${requestId ?? '-'}`);
    return withId('internal', 'internal error');
  }

  private logUnexpected(exception: unknown, where: string): void {
    if (exception instanceof Error) {
      this.logger.error(`${where} failed: ${exception.message}`, exception.stack);
    } else {
      this.logger.error(`${where} failed: ${safeString(exception)}`);
    }
  }
}

function answer(code: ErrorCode, message: string, requestId: string): HttpAnswer {
  return { status: HTTP_STATUS_BY_CODE[code], body: { code, message, requestId } };
}

/** Errors Fastify raises while reading the body, before any handler runs. */
function describeBodyProblem(
  fastifyCode: string | undefined,
  request: FastifyRequest,
): [ErrorCode, string] | undefined {
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return ['payload_too_large', `request body is larger than the limit of ${bodyLimitOf(request)} bytes`];
  }
  if (fastifyCode === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return ['invalid_request', 'request body is not valid JSON'];
  if (fastifyCode === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return ['invalid_request', 'request body is empty but content-type is application/json'];
  }
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const type = request.headers['content-type'];
    if (type === undefined) {
      return [
        'unsupported_media_type',
        'request has a body but no content-type; send it as application/json',
      ];
    }
    return [
      'unsupported_media_type',
      `content type ${JSON.stringify(type)} is not supported; send the body as application/json`,
    ];
  }
  if (fastifyCode !== undefined && CLIENT_GONE_CODES.has(fastifyCode)) {
    // Too slow (the request timeout cut it off) or hung up: nothing to log, nobody left to answer.
    return ['invalid_request', 'the connection closed before the request body arrived'];
  }
  if (fastifyCode === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return ['invalid_request', 'request body size did not match content-length'];
  }
  return undefined;
}

function codeForStatus(status: number): ErrorCode {
  const mapped = CODE_BY_STATUS[status];
  if (mapped !== undefined) return mapped;
  return status >= 500 ? 'internal' : status === 410 ? 'not_found' : 'invalid_request';
}

function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  if (isRecord(response)) {
    const message = response['message'];
    if (Array.isArray(message)) return message.map(String).join('; ');
    if (typeof message === 'string') return message;
  }
  return exception.message;
}

/** Fastify's own codes, and the socket errors of a client that went away while sending its body. */
const CLIENT_GONE_CODES = new Set(['ECONNRESET', 'ECONNABORTED']);

function bodyErrorCode(exception: unknown): string | undefined {
  for (const candidate of [exception, exception instanceof HttpException ? exception.cause : undefined]) {
    const code = isRecord(candidate) ? candidate['code'] : undefined;
    if (typeof code === 'string' && (code.startsWith('FST_') || CLIENT_GONE_CODES.has(code))) return code;
  }
  return undefined;
}

function bodyLimitOf(request: FastifyRequest): number | string {
  const limit = request.routeOptions?.bodyLimit;
  return typeof limit === 'number' ? limit : 'configured';
}

function requestIdOf(request: FastifyRequest, reply: FastifyReply): string {
  const fromReply = reply.getHeader(REQUEST_ID_HEADER);
  if (typeof fromReply === 'string' && fromReply.length > 0) return fromReply;
  return resolveRequestId(request.headers[REQUEST_ID_HEADER]);
}

function subjectOf(context: unknown): string {
  if (isRecord(context) && typeof context['getSubject'] === 'function') {
    const subject: unknown = (context['getSubject'] as () => unknown).call(context);
    if (typeof subject === 'string') return subject;
  }
  return 'rpc';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
