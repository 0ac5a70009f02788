import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';

export const RequestId = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  return typeof request.id === 'string' && request.id.length > 0
    ? request.id
    : resolveRequestId(request.headers[REQUEST_ID_HEADER]);
});
