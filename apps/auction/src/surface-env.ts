import { SURFACES, type Surface } from '@adfunnel/contracts';
import { requireExamination, type Examination } from '@adfunnel/utility';
import { z } from 'zod';

/** One value of a setting, or what was expected instead. */
export type Parsed<T> = { readonly value: T } | { readonly problem: string };

/**
 * A per-surface setting, `search:vcg,home_feed:gsp`: each surface at most once, surfaces not named
 * fall back to the global variable.
 */
export function envBySurface<T>(what: string, parse: (raw: string) => Parsed<T>) {
  const expected = `expected <surface>:<${what}> pairs separated by commas, surfaces among ${SURFACES.join(', ')}`;
  return z
    .string()
    .default('')
    .transform((raw, context): Partial<Record<Surface, T>> => {
      const settings: Partial<Record<Surface, T>> = {};
      for (const pair of raw.split(',').filter((p) => p.trim() !== '')) {
        const [surface, value, ...rest] = pair.split(':').map((p) => p.trim());
        if (!isSurface(surface) || value === undefined || rest.length > 0) {
          context.addIssue({ code: 'custom', message: `${expected}; "${pair}" is not one` });
          return z.NEVER;
        }
        if (surface in settings) {
          context.addIssue({ code: 'custom', message: `${expected}; ${surface} is named twice` });
          return z.NEVER;
        }
        const parsed = parse(value);
        if ('problem' in parsed) {
          context.addIssue({ code: 'custom', message: `${surface}: ${parsed.problem}` });
          return z.NEVER;
        }
        settings[surface] = parsed.value;
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

function isSurface(value: string | undefined): value is Surface {
  return (SURFACES as readonly string[]).includes(value ?? '');
}
