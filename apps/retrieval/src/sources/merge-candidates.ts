import type { CandidateSource } from '@adfunnel/contracts';
import { quotaCounts, type QuotaSource, type SurfaceQuotas } from './quotas.js';

/** One source's candidates, best first, as parallel arrays; scores are on the source's own scale. */
export interface SourceCandidates {
  readonly adIds: readonly number[];
  readonly scores: readonly number[];
  /** Each candidate's label: usually the source's name; `ann` also answers `exact` or `popular`. */
  readonly sources: readonly CandidateSource[];
}

export interface MergedCandidates {
  readonly adIds: number[];
  readonly scores: number[];
  readonly sources: CandidateSource[];
  /** Candidates each quota source contributed (quota and backfill together). */
  readonly taken: Partial<Record<QuotaSource, number>>;
}

export const NO_CANDIDATES: SourceCandidates = { adIds: [], scores: [], sources: [] };

/**
 * Merges the sources of one surface into at most `limit` candidates. First every source, in quota
 * order, fills its quota (quotaCounts) with ads not taken yet: an ad two sources found stays with
 * the first, with its score and label. Then what quotas left unfilled (a source with fewer
 * candidates than its quota, shares summing below 1) is backfilled from each source's next
 * candidates, again in quota order, until `limit` is reached or every source is spent. Only then,
 * if the limit is still not reached, `lastResort` (computed on demand: the popular list) tops it
 * up, so a search whose words match no ad, or a rail without its item, still gets candidates.
 * `exclude` (e.g. the item the ads are shown next to) is never taken.
 *
 * A source may answer fewer candidates than it has (its quota plus some headroom, rather than the
 * limit): `deeper(i)` then answers list i again, longer, best first. It is called at most once per
 * list, when the merge has taken list i to its end and still wants from it (in either phase), and
 * the merge goes on with the new list from its top, skipping what is taken, so the answer is the
 * one the longer list would have given from the start.
 */
export function mergeCandidates(
  quotas: SurfaceQuotas,
  lists: readonly SourceCandidates[],
  limit: number,
  exclude: ReadonlySet<number> = new Set(),
  lastResort?: { readonly source: QuotaSource; readonly candidates: () => SourceCandidates },
  deeper?: (i: number) => SourceCandidates | undefined,
): MergedCandidates {
  if (lists.length !== quotas.length) {
    throw new RangeError(`${lists.length} candidate lists for ${quotas.length} quotas`);
  }
  lists.forEach((list, i) => checked(quotas[i].source, list));
  const counts = quotaCounts(quotas, limit);
  const adIds: number[] = [];
  const scores: number[] = [];
  const sources: CandidateSource[] = [];
  const taken: Partial<Record<QuotaSource, number>> = {};
  const seen = new Set<number>(exclude);
  const all = [...lists];
  const labels = quotas.map((q) => q.source);
  const cursors = lists.map(() => 0);
  const deepened = lists.map(() => deeper === undefined);
  const take = (i: number, until: number) => {
    let list = all[i];
    let got = 0;
    while (got < until && adIds.length < limit) {
      if (cursors[i] >= list.adIds.length) {
        if (i >= lists.length || deepened[i]) break;
        deepened[i] = true;
        const more = deeper!(i);
        if (more === undefined) break;
        list = all[i] = checked(labels[i], more);
        cursors[i] = 0;
        continue;
      }
      const at = cursors[i]++;
      const adId = list.adIds[at];
      if (seen.has(adId)) continue;
      seen.add(adId);
      adIds.push(adId);
      scores.push(list.scores[at]);
      sources.push(list.sources[at]);
      got++;
    }
    if (got > 0) taken[labels[i]] = (taken[labels[i]] ?? 0) + got;
  };
  for (let i = 0; i < lists.length; i++) take(i, counts[i]);
  for (let i = 0; i < lists.length && adIds.length < limit; i++) take(i, limit);
  if (lastResort !== undefined && adIds.length < limit) {
    all.push(checked(lastResort.source, lastResort.candidates()));
    labels.push(lastResort.source);
    cursors.push(0);
    take(all.length - 1, limit);
  }
  return { adIds, scores, sources, taken };
}

function checked(source: QuotaSource, list: SourceCandidates): SourceCandidates {
  if (list.scores.length !== list.adIds.length || list.sources.length !== list.adIds.length) {
    throw new RangeError(
      `source ${source} answered ${list.adIds.length} ads, ${list.scores.length} scores ` +
        `and ${list.sources.length} labels`,
    );
  }
  return list;
}
