import { CANDIDATE_SOURCES, SURFACES, type CandidateSource, type Surface } from '@adfunnel/contracts';
import { z } from 'zod';

/**
 * The sources a surface's quotas can name: every candidate source but `exact`, which is how `ann`
 * labels candidates it found by scanning a small eligible set instead of walking the graph.
 */
export const QUOTA_SOURCES = CANDIDATE_SOURCES.filter(
  (s): s is Exclude<CandidateSource, 'exact'> => s !== 'exact',
);
export type QuotaSource = (typeof QUOTA_SOURCES)[number];

/** One source's share of a surface's candidates; a surface's quotas are listed in merge priority. */
export interface Quota {
  readonly source: QuotaSource;
  /** Share of the request's limit, in (0, 1]. */
  readonly share: number;
}

export type SurfaceQuotas = readonly Quota[];

/**
 * Search leans on the query (its words, then ads like the matched ones), related items on the item
 * shown, the home feed on the user (their recent engagement, then what is trending where they are,
 * advertisers they engaged with and the popular list). Related items take no popular or trending
 * share: on the simulator those high-bid ads won most related-items auctions (18% of served ads of
 * the item's topic with 10% each, 67% without), and search none for the user's own ANN (82% of
 * served ads of the query's topic with 10%, 98% without; README "Candidate sources").
 */
export const DEFAULT_QUOTAS: Record<Surface, SurfaceQuotas> = {
  home_feed: parseQuotas('ann:0.6,trending:0.15,retargeting:0.1,popular:0.15'),
  search: parseQuotas('lexical:0.6,query:0.4'),
  related_items: parseQuotas('context:0.8,ann:0.2'),
};

/** The environment variable that sets a surface's quotas: RETRIEVAL_QUOTAS_HOME_FEED, ... */
export function quotaVariable(surface: Surface): `RETRIEVAL_QUOTAS_${Uppercase<Surface>}` {
  return `RETRIEVAL_QUOTAS_${surface.toUpperCase() as Uppercase<Surface>}`;
}

const EXPECTED = `expected <source>:<share> pairs separated by commas, in merge priority, sources among ${QUOTA_SOURCES.join(', ')}, shares in (0, 1] summing to at most 1`;

/**
 * `lexical:0.6,query:0.3,ann:0.1`: each source at most once, in the order the merger fills them.
 * Throws a RangeError saying what is wrong.
 */
export function parseQuotas(raw: string): SurfaceQuotas {
  const quotas: Quota[] = [];
  const pairs = raw.split(',').filter((p) => p.trim() !== '');
  if (pairs.length === 0) throw new RangeError(`${EXPECTED}; got none`);
  for (const pair of pairs) {
    const [name, value, ...rest] = pair.split(':').map((p) => p.trim());
    if (name === undefined || value === undefined || rest.length > 0) {
      throw new RangeError(`${EXPECTED}; "${pair}" is not one`);
    }
    if (!(QUOTA_SOURCES as readonly string[]).includes(name)) {
      throw new RangeError(`${EXPECTED}; "${name}" is not a source`);
    }
    const source = name as QuotaSource;
    if (quotas.some((q) => q.source === source))
      throw new RangeError(`${EXPECTED}; ${source} is named twice`);
    const share = value === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(share) || share <= 0 || share > 1) {
      throw new RangeError(`${EXPECTED}; ${source} has share "${value}"`);
    }
    quotas.push({ source, share });
  }
  const total = quotas.reduce((s, q) => s + q.share, 0);
  if (total > 1 + 1e-9) throw new RangeError(`${EXPECTED}; the shares sum to ${round(total)}`);
  return quotas;
}

/** A surface's quotas variable: unset or empty keeps DEFAULT_QUOTAS for the surface. */
export function envQuotas(surface: Surface) {
  return z
    .string()
    .default('')
    .transform((raw, context): SurfaceQuotas => {
      if (raw.trim() === '') return DEFAULT_QUOTAS[surface];
      try {
        return parseQuotas(raw);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

/** One variable per surface, spread into the retrieval config schema. */
export const QuotaEnv = Object.fromEntries(SURFACES.map((s) => [quotaVariable(s), envQuotas(s)])) as {
  [S in Surface as `RETRIEVAL_QUOTAS_${Uppercase<S>}`]: ReturnType<typeof envQuotas>;
};

/**
 * Candidates per source for `limit`: each share's floor, the rounding remainder handed out by largest
 * fraction (then priority), so the quotas sum to round(limit x total share) and never exceed `limit`.
 */
export function quotaCounts(quotas: SurfaceQuotas, limit: number): number[] {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  const exact = quotas.map((q) => q.share * limit);
  const counts = exact.map((x) => Math.floor(x + 1e-9));
  const target = Math.min(limit, Math.round(exact.reduce((s, x) => s + x, 0)));
  const order = exact
    .map((x, i) => ({ i, fraction: x - counts[i] }))
    .sort((a, b) => b.fraction - a.fraction || a.i - b.i);
  let assigned = counts.reduce((s, c) => s + c, 0);
  for (let j = 0; assigned < target && j < order.length; j++, assigned++) counts[order[j].i]++;
  return counts;
}

/**
 * How many candidates each source asks the index for: its quota (quotaCounts) times `headroom`,
 * rounded up, at most `limit`, so duplicates across sources and the merge's exclusions rarely leave
 * it short (mergeCandidates asks a source that ran out for the whole limit). `headroom` 0 asks every
 * source for the whole limit. A source whose quota rounds to 0 asks for none until the merge wants it.
 */
export function sourceFetchCounts(quotas: SurfaceQuotas, limit: number, headroom: number): number[] {
  if (headroom !== 0 && !(headroom >= 1)) {
    throw new RangeError(`headroom must be 0 or at least 1, got ${headroom}`);
  }
  return quotaCounts(quotas, limit).map((count) =>
    headroom === 0 ? limit : Math.min(limit, count === 0 ? 0 : Math.ceil(count * headroom - 1e-9)),
  );
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
