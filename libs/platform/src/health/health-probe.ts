import { DiscoveryService } from '@nestjs/core';

/** One dependency's health: resolve with details when healthy, throw (with a clear message) when not. */
export interface HealthProbe {
  readonly name: string;
  check(): Promise<Record<string, unknown>>;
}

/**
 * Marks a provider as a health probe. GET /health runs every marked provider of the app, whichever
 * module provides it, so a feature module brings its own probe instead of being made global for one.
 */
export const RegisterHealthProbe = DiscoveryService.createDecorator<void>();

/** A probe that has not answered by then counts as down, so /health itself never hangs. */
export const HEALTH_PROBE_TIMEOUT_MS = 3000;
