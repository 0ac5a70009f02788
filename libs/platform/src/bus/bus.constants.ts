export interface BusModuleOptions {
  natsUrl: string;
  timeoutMs: number;
  /** Connection name shown by `nats server report connections`; usually the service name. */
  name?: string;
  /** BUS_NAMESPACE: subjects become `<namespace>.<pattern>`; empty or absent for the plain pattern. */
  namespace?: string;
}

export function busSubject(pattern: string, namespace = ''): string {
  return namespace === '' ? pattern : `${namespace}.${pattern}`;
}

export const BUS_OPTIONS = Symbol('BUS_OPTIONS');

export interface CallOptions {
  timeoutMs?: number;
}

export function natsUnreachableMessage(natsUrl: string, cause: unknown): string {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return (
    `cannot connect to NATS at ${natsUrl} (NATS_URL): ${reason}. ` +
    'Start it with `nats-server -js` or `docker compose up -d nats`, or set NATS_URL.'
  );
}
