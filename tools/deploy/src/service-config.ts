import { type Env, parseConfig } from '@adfunnel/platform';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';

/** The funnel's services, each an app under apps/ with its own HTTP port. */
export const SERVICE_PORTS = {
  gateway: 3100,
  retrieval: 3101,
  ranking: 3102,
  auction: 3103,
  logging: 3104,
  advertiser: 3105,
} as const;
export type ServiceName = keyof typeof SERVICE_PORTS;
export const SERVICES = Object.keys(SERVICE_PORTS) as ServiceName[];

/** The services the HorizontalPodAutoscalers scale: the serving path, stateless per request. */
export const AUTOSCALED_SERVICES: readonly ServiceName[] = ['gateway', 'retrieval', 'ranking', 'auction'];

export function serviceConfigPath(root: string, service: string): string {
  return join(root, 'apps', service, 'src', 'config.ts');
}

export function serviceExists(root: string, service: string): boolean {
  return existsSync(serviceConfigPath(root, service));
}

/**
 * The app's own zod schema (the export of apps/<service>/src/config.ts whose name ends in
 * ConfigSchema), so the checks use exactly what the service validates its environment with.
 */
export async function serviceConfigSchema(root: string, service: string): Promise<z.ZodObject> {
  const module = (await import(serviceConfigPath(root, service))) as Record<string, unknown>;
  const schemas = Object.entries(module).filter(
    ([name, value]) =>
      name.endsWith('ConfigSchema') && typeof value === 'object' && value !== null && 'shape' in value,
  );
  const [first] = schemas;
  if (schemas.length !== 1 || first === undefined) {
    throw new Error(
      `apps/${service}/src/config.ts: expected one export named *ConfigSchema, found ${schemas.length}`,
    );
  }
  return first[1] as z.ZodObject;
}

/** The service's config from an environment, as it parses it at start (a ConfigError names every problem). */
export async function parseServiceConfig(
  root: string,
  service: string,
  env: Env,
): Promise<Record<string, unknown>> {
  return parseConfig(await serviceConfigSchema(root, service), env);
}
