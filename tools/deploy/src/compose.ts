import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  profiles?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: unknown;
  [key: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/**
 * A compose file as `docker compose config` would see it: anchors and `<<` merges resolved, every
 * `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}` and `$$` interpolated from `env`.
 * A required variable that is missing is an error carrying compose's message.
 */
export function readComposeFile(file: string, env: Readonly<Record<string, string>>): ComposeFile {
  const parsed = parse(readFileSync(file, 'utf8'), { merge: true, maxAliasCount: -1 }) as unknown;
  return interpolate(parsed, env) as ComposeFile;
}

/** The variables a compose file requires (`${VAR:?...}` or `${VAR?...}`), in the order they first appear. */
export function requiredVariables(file: string): string[] {
  const names = [...readFileSync(file, 'utf8').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map(
    (m) => m[1],
  );
  return [...new Set(names)];
}

export function interpolate(value: unknown, env: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') return interpolateString(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env)]));
  }
  return value;
}

function interpolateString(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])((?:[^{}]|\{[^}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      match,
      braced: string | undefined,
      colon: string,
      kind: string,
      operand: string | undefined,
      plain?: string,
    ) => {
      if (match === '$$') return '$';
      const name = braced ?? plain ?? '';
      const value = env[name];
      const unset = value === undefined || (colon === ':' && value === '');
      if (kind === '-') return unset ? interpolateString(operand ?? '', env) : (value ?? '');
      if (kind === '?') {
        if (unset) throw new Error(`required variable ${name} is missing a value: ${operand ?? ''}`);
        return value ?? '';
      }
      return value ?? '';
    },
  );
}

/** A service's environment as strings (compose passes numbers and booleans as their text). */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.environment ?? {})) {
    if (value !== null) env[key] = String(value);
  }
  return env;
}
