import { AdfunnelError } from '@adfunnel/contracts';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../config/app-config.constants.js';
import type { CommonConfig } from '../config/common-env.js';
import { AdminTokens, bearerTokenOf } from './admin-tokens.js';

const SEND_IT = 'send the header "Authorization: Bearer <ADMIN_TOKEN>"';

/**
 * Operator endpoints (`@UseGuards(AdminTokenGuard)`): only a request bearing the service's
 * ADMIN_TOKEN gets through. A service started without one answers 403 on them, saying to set it;
 * a missing or wrong token gets 401.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly tokens: AdminTokens;

  constructor(@Inject(APP_CONFIG) config: Pick<CommonConfig, 'ADMIN_TOKEN'>) {
    this.tokens = new AdminTokens([config.ADMIN_TOKEN]);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.tokens.configured) {
      throw new AdfunnelError(
        'forbidden',
        `admin endpoints are off: start the service with ADMIN_TOKEN set (at least 24 characters), then ${SEND_IT}`,
        'admin_disabled',
      );
    }
    const http = context.switchToHttp();
    const token = bearerTokenOf(http.getRequest<FastifyRequest>().headers.authorization);
    if (typeof token === 'string' && this.tokens.accepts(token)) return true;
    void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="admin"');
    if (token === undefined) {
      throw new AdfunnelError('unauthenticated', `no admin token: ${SEND_IT}`, 'missing_credentials');
    }
    if (token === null) {
      throw new AdfunnelError(
        'unauthenticated',
        'the Authorization header must be "Bearer <ADMIN_TOKEN>"',
        'invalid_credentials',
      );
    }
    throw new AdfunnelError(
      'unauthenticated',
      "the admin token does not match this service's ADMIN_TOKEN",
      'invalid_credentials',
    );
  }
}
