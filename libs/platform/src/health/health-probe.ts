/** One dependency's health: resolve with details when healthy, throw (with a clear message) when not. */
export interface HealthProbe {
  readonly name: string;
  check(): Promise<Record<string, unknown>>;
}

export const HEALTH_PROBES = Symbol('HEALTH_PROBES');

/** A probe that has not answered by then counts as down, so /health itself never hangs. */
export const HEALTH_PROBE_TIMEOUT_MS = 3000;
