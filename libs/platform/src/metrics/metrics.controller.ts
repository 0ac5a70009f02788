import { AdfunnelError } from '@adfunnel/contracts';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdminTokens, bearerTokenOf } from '../admin/admin-tokens.js';
import { METRICS_OPTIONS, Metrics, type MetricsOptions } from './metrics.js';

/**
 * GET /metrics: this service's metrics in Prometheus' text format. Open, like /health (services
 * listen on 127.0.0.1 unless told otherwise, and no metric carries an id or a secret), unless
 * METRICS_TOKEN is set: then only `Authorization: Bearer <METRICS_TOKEN>` gets them. Neither rate
 * limits nor the gateway's admission control apply to it.
 */
@Controller('metrics')
export class MetricsController {
  private readonly tokens: AdminTokens;

  constructor(
    private readonly metrics: Metrics,
    @Inject(METRICS_OPTIONS) options: MetricsOptions,
  ) {
    this.tokens = new AdminTokens([options.token]);
  }

  @Get()
  async scrape(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (this.tokens.configured) this.authenticate(request, reply);
    const text = await this.metrics.scrape();
    void reply.type(this.metrics.contentType);
    return text;
  }

  private authenticate(request: FastifyRequest, reply: FastifyReply): void {
    const token = bearerTokenOf(request.headers.authorization);
    if (typeof token === 'string' && this.tokens.accepts(token)) return;
    void reply.header('www-authenticate', 'Bearer realm="metrics"');
    throw new AdfunnelError(
      'unauthenticated',
      token === undefined
        ? 'METRICS_TOKEN is set on this service: send "Authorization: Bearer <METRICS_TOKEN>"'
        : "the bearer token does not match this service's METRICS_TOKEN",
      token === undefined ? 'missing_credentials' : 'invalid_credentials',
    );
  }
}
