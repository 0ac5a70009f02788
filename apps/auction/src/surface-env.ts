import { readFileSync } from 'node:fs';
import { DEVICES, SURFACES, type Device, type Surface } from '@adfunnel/contracts';
import { requireExamination, type Examination } from '@adfunnel/utility';
import { z } from 'zod';

/** One value of a setting, or what was expected instead. */
export type Parsed<T> = { readonly value: T } | { readonly problem: string };

/**
 * A per-surface setting, `search:vcg,home_feed:gsp`: each surface at most once, surfaces not named
 * fall back to the global variable.
 */
export function envBySurface<T>(what: string, parse: (raw: string) => Parsed<T>) {
  return envByKey(
    SURFACES,
    `expected <surface>:<${what}> pairs separated by commas, surfaces among ${SURFACES.join(', ')}`,
    parse,
  );
}

/** `search`, or `search.mobile` for one device of a surface. */
export type SurfaceDeviceKey = Surface | `${Surface}.${Device}`;
export const SURFACE_DEVICE_KEYS: readonly SurfaceDeviceKey[] = [
  ...SURFACES,
  ...SURFACES.flatMap((surface) => DEVICES.map((device) => `${surface}.${device}` as const)),
];

/**
 * A per-surface setting that may also name one device of a surface, `search:2,search.mobile:1`;
 * `surface.device` wins over `surface`, which wins over the global variable (settingFor).
 */
export function envBySurfaceDevice<T>(what: string, parse: (raw: string) => Parsed<T>) {
  return envByKey(
    SURFACE_DEVICE_KEYS,
    `expected <surface>[.<device>]:<${what}> pairs separated by commas, surfaces among ${SURFACES.join(', ')}, devices among ${DEVICES.join(', ')}`,
    parse,
  );
}

/** The most specific of `surface.device`, `surface`, then the fallback. */
export function settingFor<T>(
  settings: Partial<Record<SurfaceDeviceKey, T>>,
  surface: Surface,
  device: Device,
  fallback: T,
): T {
  return settings[`${surface}.${device}`] ?? settings[surface] ?? fallback;
}

function envByKey<K extends string, T>(
  keys: readonly K[],
  expected: string,
  parse: (raw: string) => Parsed<T>,
) {
  const isKey = (value: string | undefined): value is K => (keys as readonly string[]).includes(value ?? '');
  return z
    .string()
    .default('')
    .transform((raw, context): Partial<Record<K, T>> => {
      const settings: Partial<Record<K, T>> = {};
      for (const pair of raw.split(',').filter((p) => p.trim() !== '')) {
        const [key, value, ...rest] = pair.split(':').map((p) => p.trim());
        if (!isKey(key) || value === undefined || rest.length > 0) {
          context.addIssue({ code: 'custom', message: `${expected}; "${pair}" is not one` });
          return z.NEVER;
        }
        if (key in settings) {
          context.addIssue({ code: 'custom', message: `${expected}; ${key} is named twice` });
          return z.NEVER;
        }
        const parsed = parse(value);
        if ('problem' in parsed) {
          context.addIssue({ code: 'custom', message: `${key}: ${parsed.problem}` });
          return z.NEVER;
        }
        settings[key] = parsed.value;
      }
      return settings;
    });
}

/**
 * A per-surface value checked by its global variable's schema (without its default), so both refuse
 * the same values with the same message; an empty value is refused like an unset one.
 */
export function parsedBy<T>(schema: z.ZodType<T>): (raw: string) => Parsed<T> {
  return (raw) => {
    const parsed = schema.safeParse(raw === '' ? undefined : raw);
    return parsed.success ? { value: parsed.data } : { problem: parsed.error.issues[0].message };
  };
}

/** `1,0.75,0.6` in the global variable, `1|0.75|0.6` inside a per-surface pair. */
export function parseExamination(raw: string, separator: ',' | '|'): Parsed<Examination> {
  const values = raw.split(separator).map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
  try {
    requireExamination(values);
    return { value: values };
  } catch (error) {
    const problem = `expected examination probabilities separated by "${separator}", starting at 1 and never increasing (${(error as Error).message})`;
    return { problem };
  }
}

export function envExamination(fallback: Examination) {
  return z
    .string()
    .optional()
    .transform((raw, context): Examination => {
      if (raw === undefined) return fallback;
      const parsed = parseExamination(raw, ',');
      if ('value' in parsed) return parsed.value;
      context.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    });
}

/**
 * AUCTION_EXAMINATION_FILE: a JSON object of examination curves by `surface` or `surface.device`,
 * `{"search": [1, 0.62, 0.45], "search.mobile": [1, 0.55]}`, as `npm run report -- examination
 * --write` writes it. Read once at start; absent: no curves from a file.
 */
export function envExaminationFile() {
  return z
    .string()
    .optional()
    .transform((path, context): Partial<Record<SurfaceDeviceKey, Examination>> => {
      if (path === undefined || path === '') return {};
      const problem = (message: string) => {
        context.addIssue({ code: 'custom', message: `${path}: ${message}` });
        return z.NEVER;
      };
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(path, 'utf8'));
      } catch (error) {
        return problem(`cannot read a JSON examination file (${(error as Error).message})`);
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        return problem('expected a JSON object of examination curves by surface or surface.device');
      }
      const curves: Partial<Record<SurfaceDeviceKey, Examination>> = {};
      for (const [key, curve] of Object.entries(raw)) {
        if (!(SURFACE_DEVICE_KEYS as readonly string[]).includes(key)) {
          return problem(
            `"${key}" is not <surface>[.<device>] (surfaces ${SURFACES.join(', ')}, devices ${DEVICES.join(', ')})`,
          );
        }
        try {
          requireExamination(curve as Examination);
        } catch (error) {
          return problem(`${key}: ${(error as Error).message}`);
        }
        curves[key as SurfaceDeviceKey] = Object.freeze([...(curve as number[])]);
      }
      return curves;
    });
}
