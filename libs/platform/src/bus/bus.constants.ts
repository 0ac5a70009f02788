import { redactUrlCredentials } from '../config/redact-url.js';

export interface BusModuleOptions {
  natsUrl: string;
  timeoutMs: number;
  /** Connection name shown by `nats server report connections`; usually the service name. */
  name?: string;
  /** BUS_NAMESPACE: subjects become `<namespace>.<pattern>`; empty or absent for the plain pattern. */
  namespace?: string;
  /**
   * Call a stage co-located in this process (registered by `startService({ localBus: true })`)
   * directly rather than over NATS; default true. Stages in other processes are always called
   * over NATS.
   */
  local?: boolean;
}

export function busSubject(pattern: string, namespace = ''): string {
  return namespace === '' ? pattern : `${namespace}.${pattern}`;
}

/** The pattern a subject was sent on: busSubject's inverse. */
export function patternOfSubject(subject: string, namespace = ''): string {
  const prefix = namespace === '' ? '' : `${namespace}.`;
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : subject;
}

export const BUS_OPTIONS = Symbol('BUS_OPTIONS');

export interface CallOptions {
  timeoutMs?: number;
}

export function natsUnreachableMessage(natsUrl: string, cause: unknown): string {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const shown = redactUrlCredentials(natsUrl);
  if (/authorization|authentication/i.test(reason)) {
    return (
      `NATS at ${shown} (NATS_URL) refused the credentials: ${reason}. ` +
      "Put this service's user and password from the server's config in NATS_URL: " +
      'nats://<user>:<password>@host:4222 (docker/nats.conf), or nats://<token>@host:4222.'
    );
  }
  return (
    `cannot connect to NATS at ${shown} (NATS_URL): ${reason}. ` +
    'Start it with `nats-server -js` or `docker compose up -d nats`, or set NATS_URL.'
  );
}
