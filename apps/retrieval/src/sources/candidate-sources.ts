import type { RetrievalResult } from '@adfunnel/ad-index';
import type { CandidateSource, CandidatesRequest } from '@adfunnel/contracts';
import type { CandidateCatalog, EligibleAds } from './candidate-catalog.js';
import type { LexicalHits } from './lexical-index.js';
import { NO_CANDIDATES, type SourceCandidates } from './merge-candidates.js';
import type { QuotaSource } from './quotas.js';
import type { TrendingAds } from './trending-ads.js';
import { normalized, type UserQueryVector } from './user-query-vector.js';

export interface CandidateSourceOptions {
  /**
   * The personalized ANN fetches this many times its candidates and keeps the best by similarity x
   * the campaign's prior value per impression (an observable value estimate); 1: by similarity alone.
   */
  readonly annOverfetch: number;
  /** Lexical hits whose embeddings (weighted by BM25 score) make the `query` source's vector. */
  readonly querySeeds: number;
}

/** One request as every source sees it. */
export interface SourceRequest {
  readonly request: CandidatesRequest;
  readonly catalog: CandidateCatalog;
  readonly eligible: EligibleAds;
  readonly excludeCampaigns: ReadonlySet<number>;
  /** How many candidates to answer at most. */
  readonly k: number;
}

/** A source's candidates, and why it has none or fewer than it could (for the debug log). */
export interface SourceAnswer {
  readonly candidates: SourceCandidates;
  readonly note?: string;
}

/**
 * The candidate sources of one retrieval service: each answers the eligible ads (the AdIndex's
 * targeting less the request's excluded campaigns) it finds for a request, best first, labelled.
 * Lexical hits are computed once per request and shared by `lexical` and `query`.
 */
export class CandidateSources {
  constructor(
    private readonly userVector: UserQueryVector,
    private readonly trending: TrendingAds,
    private readonly options: CandidateSourceOptions,
  ) {}

  /**
   * A per-request runner: `run(source, k)` answers that source's best `k` candidates (at most
   * `input.k`, the default), the first `k` of what it answers for `input.k` where the source's search
   * allows (exact scans, lexical, popular, trending, retargeting; HNSW walks with ef = max(efSearch,
   * k) may differ a little).
   */
  forRequest(base: SourceRequest): (source: QuotaSource, k?: number) => SourceAnswer {
    let hits: LexicalHits | undefined;
    const lexicalHits = () =>
      (hits ??= strongHits(
        base.catalog.lexical.search(base.request.query ?? '', base.k, base.eligible.admits),
      ));
    return (source, k = base.k) => {
      const input = k === base.k ? base : { ...base, k: Math.min(k, base.k) };
      switch (source) {
        case 'interest':
          return this.interest(input);
        case 'ann':
          return this.personalized(input);
        case 'lexical':
          return this.lexical(input, lexicalHits);
        case 'query':
          return this.query(input, lexicalHits, base.k);
        case 'context':
          return this.context(input);
        case 'trending':
          return this.trendingAds(input);
        case 'popular':
          return { candidates: popular(input) };
        case 'retargeting':
          return this.retargeting(input);
      }
    };
  }

  /**
   * Around each of the user's interests (UserQueryVector): each interest's `k` nearest eligible ads
   * (with ANN_OVERFETCH above 1, re-ordered by similarity x prior value), interleaved by the interests'
   * weights (D'Hondt: the next ad comes from the interest with the highest weight / (ads taken + 1)),
   * an ad found by two interests counted once. The interleaving does not depend on `k`, so asking for
   * fewer answers the first ones of asking for more, as the other sources do.
   */
  private personalized(input: SourceRequest): SourceAnswer {
    const { request, catalog, k } = input;
    const { interests, basis } = this.userVector.queryFor(request.user, catalog);
    if (interests.length === 0) return { candidates: popular(input), note: 'no activity: popular' };
    const lists = interests.map(({ vector }) => this.nearest(input, vector, k));
    if (lists.length === 1) return { candidates: lists[0], note: basis };
    const taken = new Set<number>();
    const adIds: number[] = [];
    const scores: number[] = [];
    const sources: CandidateSource[] = [];
    const next = lists.map(() => 0);
    const counts = lists.map(() => 0);
    while (adIds.length < k) {
      let best = -1;
      for (let l = 0; l < lists.length; l++) {
        while (next[l] < lists[l].adIds.length && taken.has(lists[l].adIds[next[l]])) next[l]++;
        if (next[l] >= lists[l].adIds.length) continue;
        if (best < 0 || interests[l].weight / (counts[l] + 1) > interests[best].weight / (counts[best] + 1)) {
          best = l;
        }
      }
      if (best < 0) break;
      const i = next[best]++;
      counts[best]++;
      taken.add(lists[best].adIds[i]);
      adIds.push(lists[best].adIds[i]);
      scores.push(lists[best].scores[i]);
      sources.push(lists[best].sources[i]);
    }
    return { candidates: { adIds, scores, sources }, note: `${basis} (${interests.length})` };
  }

  /**
   * The eligible ads most about what the user engages with: the best `k` by Σ_c affinity_c ·
   * mixture_c(ad), the user's inferred category affinity (from ad clicks, conversions and organic
   * engagement) over the ad's category mixture decoded from its image (CandidateCatalog.interests),
   * exact (InterestPostings.top). With ANN_OVERFETCH above 1, the best of that many times `k` by
   * interest match x prior value.
   */
  private interest(input: SourceRequest): SourceAnswer {
    const { request, catalog, eligible, k } = input;
    const postings = catalog.interests;
    if (postings === null)
      return { candidates: NO_CANDIDATES, note: 'no category mixtures for this catalog' };
    if (!request.user.interests.some((a) => a > 0)) {
      return { candidates: NO_CANDIDATES, note: 'no affinity inferred yet' };
    }
    const overfetch = this.options.annOverfetch;
    const found = postings.top(request.user.interests, k * overfetch, eligible.admits);
    const matches = labelled(found, 'interest');
    return {
      candidates: overfetch === 1 ? matches : byPriorValue(matches, eligible, k),
      note: `${found.read} entries read`,
    };
  }

  /** The `k` eligible ads nearest `vector`, re-ordered by similarity x prior value over ANN_OVERFETCH x k. */
  private nearest(input: SourceRequest, vector: Float32Array, k: number): SourceCandidates {
    const overfetch = this.options.annOverfetch;
    const found = search(input, vector, k * overfetch);
    return overfetch === 1 ? found : byPriorValue(found, input.eligible, k);
  }

  private lexical(input: SourceRequest, lexicalHits: () => LexicalHits): SourceAnswer {
    if (!input.request.query?.trim()) return { candidates: NO_CANDIDATES, note: 'no query' };
    const all = lexicalHits();
    const hits =
      all.adIds.length <= input.k
        ? all
        : { adIds: all.adIds.slice(0, input.k), scores: all.scores.slice(0, input.k) };
    return {
      candidates: labelled(hits, 'lexical'),
      ...(hits.adIds.length === 0 ? { note: 'no eligible ad has a word of the query' } : {}),
    };
  }

  /**
   * Beyond the query's words: ads near the embeddings of its best lexical hits. Its nearest ads are
   * those hits, which `lexical` answers first, so it asks for one more per hit (up to `limit`).
   */
  private query(input: SourceRequest, lexicalHits: () => LexicalHits, limit: number): SourceAnswer {
    if (!input.request.query?.trim()) return { candidates: NO_CANDIDATES, note: 'no query' };
    const hits = lexicalHits();
    const seeds = Math.min(hits.adIds.length, this.options.querySeeds);
    let centroid: Float32Array | null = null;
    for (let i = 0; i < seeds; i++) {
      const ad = input.catalog.ad(hits.adIds[i])!;
      centroid ??= new Float32Array(ad.embedding.length);
      for (let d = 0; d < centroid.length; d++) centroid[d] += hits.scores[i] * ad.embedding[d];
    }
    const vector = centroid === null ? null : normalized(centroid);
    if (vector === null) return { candidates: NO_CANDIDATES, note: 'no lexical hit to search around' };
    const k = Math.min(limit, input.k + hits.adIds.length);
    return { candidates: relabelled(search(input, vector, k), 'query') };
  }

  /** Ads like the item shown (related_items), the item itself left out. */
  private context(input: SourceRequest): SourceAnswer {
    const contextAdId = input.request.contextAdId;
    if (contextAdId === undefined) return { candidates: NO_CANDIDATES, note: 'no context ad' };
    const ad = input.catalog.ad(contextAdId);
    if (ad === undefined) {
      return { candidates: NO_CANDIDATES, note: `context ad ${contextAdId} is not in the catalog` };
    }
    const found = search(input, ad.embedding, input.k + 1);
    const keep = found.adIds.flatMap((id, i) => (id === contextAdId ? [] : [i]));
    return {
      candidates: {
        adIds: keep.slice(0, input.k).map((i) => found.adIds[i]),
        scores: keep.slice(0, input.k).map((i) => found.scores[i]),
        sources: keep.slice(0, input.k).map(() => 'context'),
      },
    };
  }

  private trendingAds(input: SourceRequest): SourceAnswer {
    const list = this.trending.top(input.request.user.country);
    const adIds: number[] = [];
    const scores: number[] = [];
    for (const { adId, score } of list) {
      if (adIds.length >= input.k) break;
      if (input.eligible.admits(adId)) {
        adIds.push(adId);
        scores.push(score);
      }
    }
    return {
      candidates: { adIds, scores, sources: adIds.map(() => 'trending') },
      ...(list.length === 0 ? { note: 'no trending ads for the country' } : {}),
    };
  }

  /**
   * Eligible ads of the advertisers the user engaged with, most recent advertiser first, taking each
   * advertiser's ads by prior value in turn (round robin), so one large advertiser does not fill it.
   */
  private retargeting(input: SourceRequest): SourceAnswer {
    const advertisers = input.request.user.activity?.recentAdvertiserIds ?? [];
    if (advertisers.length === 0) return { candidates: NO_CANDIDATES, note: 'no recent advertisers' };
    const { eligible, catalog, k } = input;
    const queues = advertisers.map((advertiserId) =>
      catalog
        .adsOfAdvertiser(advertiserId)
        .filter(eligible.admits)
        .sort((a, b) => eligible.prior(b) - eligible.prior(a) || a - b),
    );
    const adIds: number[] = [];
    for (let round = 0; adIds.length < k && queues.some((q) => round < q.length); round++) {
      for (const q of queues) if (round < q.length && adIds.length < k) adIds.push(q[round]);
    }
    return {
      candidates: {
        adIds,
        scores: adIds.map((adId) => eligible.prior(adId)),
        sources: adIds.map(() => 'retargeting'),
      },
    };
  }
}

/**
 * A lexical hit scoring below this share of the best one matched a minor word only (a brand word
 * like "studio" in "studio headphones"): left to the other sources rather than filling the quota.
 */
export const LEXICAL_MIN_SHARE_OF_BEST = 0.5;

function strongHits(hits: LexicalHits): LexicalHits {
  if (hits.adIds.length === 0) return hits;
  const floor = LEXICAL_MIN_SHARE_OF_BEST * hits.scores[0];
  let n = 0;
  while (n < hits.scores.length && hits.scores[n] >= floor) n++;
  return { adIds: hits.adIds.slice(0, n), scores: hits.scores.slice(0, n) };
}

function search(input: SourceRequest, vector: ArrayLike<number>, k: number): RetrievalResult {
  const { request, catalog, excludeCampaigns } = input;
  return catalog.index.search({
    embedding: vector,
    country: request.user.country,
    device: request.user.device,
    k,
    excludeCampaigns,
  });
}

function popular(input: SourceRequest): SourceCandidates {
  const { request, catalog, excludeCampaigns, k } = input;
  return catalog.index.popular({
    country: request.user.country,
    device: request.user.device,
    k,
    excludeCampaigns,
  });
}

/** The over-fetch's re-order: the best `k` of `found` by its score x the ad's prior value per impression. */
function byPriorValue(found: SourceCandidates, eligible: EligibleAds, k: number): SourceCandidates {
  const order = found.adIds
    .map((adId, i) => ({ adId, i, value: found.scores[i] * eligible.prior(adId) }))
    .sort((a, b) => b.value - a.value || a.adId - b.adId)
    .slice(0, k);
  return {
    adIds: order.map((o) => o.adId),
    scores: order.map((o) => o.value),
    sources: order.map((o) => found.sources[o.i]),
  };
}

function labelled(hits: LexicalHits, source: CandidateSource): SourceCandidates {
  return { adIds: hits.adIds, scores: hits.scores, sources: hits.adIds.map(() => source) };
}

function relabelled(result: RetrievalResult, source: CandidateSource): SourceCandidates {
  return { adIds: result.adIds, scores: result.scores, sources: result.adIds.map(() => source) };
}
