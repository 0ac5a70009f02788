import { UtilityWeightsSchema } from '@adfunnel/contracts';
import { UTILITY_WEIGHT_NAMES, type UtilityWeights } from '@adfunnel/utility';
import { z } from 'zod';
import type { Parsed } from './surface-env.js';

const EXPECTED = `<name>=<weight> pairs, names among ${UTILITY_WEIGHT_NAMES.join(', ')}, weights from 0 to 100 (advertiserValue above 0)`;

/**
 * `userValue=1,hide=2` in the global variable, `userValue=1|hide=2` inside a per-surface pair: some
 * of the weights, each named at most once and in the range the request's override has.
 */
export function parseUtilityWeights(raw: string, separator: ',' | '|'): Parsed<Partial<UtilityWeights>> {
  const weights: Record<string, number> = {};
  for (const pair of raw.split(separator).filter((p) => p.trim() !== '')) {
    const [name, value, ...rest] = pair.split('=').map((p) => p.trim());
    const known = (UTILITY_WEIGHT_NAMES as readonly string[]).includes(name);
    if (!known || value === undefined || value === '' || rest.length > 0) {
      return { problem: `expected ${EXPECTED} separated by "${separator}"; "${pair}" is not one` };
    }
    if (name in weights) return { problem: `expected ${EXPECTED}; ${name} is named twice` };
    weights[name] = Number(value);
  }
  const parsed = UtilityWeightsSchema.partial().safeParse(weights);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `expected ${EXPECTED}; ${issue.path.join('.')}: ${issue.message}` };
  }
  return { value: parsed.data };
}

/** AUCTION_UTILITY_WEIGHTS: the weights it names over `defaults`. */
export function envUtilityWeights(defaults: UtilityWeights) {
  return z
    .string()
    .default('')
    .transform((raw, context): UtilityWeights => {
      const parsed = parseUtilityWeights(raw, ',');
      if ('value' in parsed) return Object.freeze({ ...defaults, ...parsed.value });
      context.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    });
}
