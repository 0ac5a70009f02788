import { AdfunnelError } from '@adfunnel/contracts';
import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { type AdmissionController, SHED_REASON, type ShedSignal } from './admission-controller.js';

/** A shed burst is logged once per this long, with how many were shed since, not once per request. */
const SHED_LOG_EVERY_MS = 10_000;

/**
 * Puts `admission` in front of the given routes (`"POST /v1/ads"`): each request is admitted or shed
 * in Fastify's onRequest, before its body is read or parsed, so a shed request costs the headers'
 * parse and a small JSON answer: 503 `unavailable` with reason `overloaded_in_flight` or
 * `overloaded_event_loop_delay` and a Retry-After of whole seconds. An admitted request holds its slot
 * until its response is finished or its connection closes. Other routes (GET /health) are never shed.
 * `onShed` hears of each shed request (the metrics count them). Install before the app's routes are
 * registered (runService's configureHttp runs before init).
 */
export function installAdmission(
  instance: FastifyInstance,
  admission: AdmissionController,
  routes: readonly string[],
  logger: LoggerService,
  onShed: (signal: ShedSignal) => void = () => undefined,
): void {
  if (!admission.enabled) return;
  const guarded = new Set(routes);
  const hook = admissionHook(admission, logger, onShed);
  instance.addHook('onRoute', (routeOptions) => {
    const methods = Array.isArray(routeOptions.method) ? routeOptions.method : [routeOptions.method];
    if (!methods.some((method) => guarded.has(`${method} ${routeOptions.url}`))) return;
    // A new array: Fastify's implicit HEAD route starts from a shallow copy of these options.
    const existing = routeOptions.onRequest;
    routeOptions.onRequest =
      existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
  });
}

function admissionHook(
  admission: AdmissionController,
  logger: LoggerService,
  onShed: (signal: ShedSignal) => void,
): onRequestHookHandler {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let shedWhenLogged = 0;
  return (request, reply, done) => {
    const decision = admission.admit();
    if (decision.admitted) {
      // 'close' follows the finished response, and also a client that hung up before it.
      reply.raw.once('close', decision.release);
      done();
      return;
    }
    onShed(decision.signal);
    const now = Date.now();
    if (now - loggedAt >= SHED_LOG_EVERY_MS) {
      const shed = admission.snapshot().shed.total;
      logger.warn(
        `shedding ad requests (${shed - shedWhenLogged} since the last report): ${decision.message}`,
      );
      loggedAt = now;
      shedWhenLogged = shed;
    }
    const error = new AdfunnelError('unavailable', decision.message, SHED_REASON[decision.signal]);
    void reply
      .code(503)
      .header('retry-after', String(decision.retryAfterSeconds))
      .send(error.toBody(request.id));
  };
}
