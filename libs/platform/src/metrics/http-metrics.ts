import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter, Histogram } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, Metrics, childrenBy } from './metrics.js';

/** The route label of a request that matched no route: its path is the client's to choose. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every HTTP request by route (the route's template, never the path as sent), method and
 * status code, and times it by route and method, in one Fastify onResponse hook. Installed before
 * the server is ready (Fastify binds root hooks to every route then), so it sees all routes.
 */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  private readonly requests: Counter<'route' | 'method' | 'status_code'>;
  private readonly duration: Histogram<'route' | 'method'>;
  private readonly children: (route: string) => (method: string) => {
    duration: Histogram.Internal<string>;
    status: (code: number) => Counter.Internal;
  };

  constructor(
    metrics: Metrics,
    private readonly host: HttpAdapterHost,
  ) {
    this.requests = metrics.counter({
      name: 'adfunnel_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status code',
      labelNames: ['route', 'method', 'status_code'],
    });
    this.duration = metrics.histogram({
      name: 'adfunnel_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to its answer being sent, by route template and method',
      labelNames: ['route', 'method'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
    });
    this.children = childrenBy((route) =>
      childrenBy((method) => ({
        duration: this.duration.labels(route, method),
        status: childrenBy((code: number) => this.requests.labels(route, method, String(code))),
      })),
    );
  }

  onModuleInit(): void {
    const adapter = this.host.httpAdapter as { getType(): string; getInstance(): unknown } | undefined;
    if (adapter?.getType() !== 'fastify') return;
    (adapter.getInstance() as FastifyInstance).addHook('onResponse', (request, reply, done) => {
      this.record(request, reply);
      done();
    });
  }

  record(request: FastifyRequest, reply: FastifyReply): void {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    const child = this.children(route)(request.method);
    child.duration.observe(reply.elapsedTime / 1000);
    child.status(reply.statusCode).inc();
  }
}
