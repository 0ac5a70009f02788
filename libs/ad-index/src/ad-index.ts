import { EMBEDDING_DIM } from '@adfunnel/features';
import { DEFAULT_PREDICTION_PRIORS, type PredictionPriors } from '@adfunnel/utility';
import hnswlib from 'hnswlib-node';
import type { HierarchicalNSW as HnswIndex } from 'hnswlib-node';
import { EligibilityTable, type EligibleSet, type TargetingRule } from './eligibility-table.js';
import { priorValuePerImpression, type PricedCampaign } from './popularity-prior.js';
import { TopK } from './top-k.js';

// hnswlib-node is a CommonJS addon: its classes are only reachable through the default export in ESM.
const { HierarchicalNSW } = hnswlib;

/** The part of a catalog ad the index reads; `CatalogAd` from @adfunnel/catalog satisfies it. */
export interface IndexableAd {
  readonly id: number;
  /** The ad itself can be paused inside an active campaign. */
  readonly status: string;
  readonly embedding: ArrayLike<number>;
  readonly campaign: PricedCampaign & TargetingRule & { readonly status: string };
}

export type CandidateSource = 'ann' | 'exact' | 'popular';

/**
 * How a (country, device) bucket is searched, fixed at build time from how many ads it may see:
 * - `exact`: a scan of a packed copy of the bucket's vectors (fewer than `exactThreshold` eligible);
 * - `graph`: the catalog-wide graph with no filter, when the bucket sees every ad, or over-fetching
 *   k / share neighbours and dropping the ineligible when it sees at least half of them;
 * - `bucket-graph`: a graph of the bucket's own ads, searched with no filter;
 * - `filtered-graph`: the catalog-wide graph behind hnswlib's filter, which calls into JS once per
 *   node it considers (0.5 to 2.5 µs each as measured, about k / share of them per search): the
 *   fallback for buckets the bucket-graph budget does not cover.
 */
export type SearchStrategy = 'exact' | 'graph' | 'bucket-graph' | 'filtered-graph';

export interface AdIndexOptions {
  readonly catalogVersion: string;
  /**
   * Length of the ad and query vectors: EMBEDDING_DIM for content embeddings (the default), the
   * output width of a learned tower for its embeddings.
   */
  readonly dim?: number;
  /** HNSW search breadth; higher is slower and recalls more. hnswlib searches with at least k. */
  readonly efSearch?: number;
  /** Eligible sets smaller than this are scanned exactly instead of searched through HNSW. */
  readonly exactThreshold?: number;
  /**
   * Buckets that see at least `exactThreshold` ads but at most this share of the catalog get an HNSW
   * graph of their own (0 turns that off): hnswlib's filtered search on the catalog-wide graph gets
   * slower and recalls less the fewer ads the filter admits.
   */
  readonly bucketGraphMaxShare?: number;
  /**
   * Cap on the ads in all bucket graphs together, as a multiple of the catalog size: each costs its
   * share of the catalog graph's memory and build time again. Smallest buckets are served first.
   */
  readonly bucketGraphBudget?: number;
  readonly m?: number;
  readonly efConstruction?: number;
  /** Rates that value the popular list; the auction's defaults unless given. */
  readonly priors?: PredictionPriors;
  /** Points added between yields to the event loop in `buildInSlices`. */
  readonly sliceSize?: number;
}

export interface RetrievalQuery {
  /** Unit vector in the ad space; all zeros means no interest signal (cold start). */
  readonly embedding: ArrayLike<number>;
  readonly country: string;
  readonly device: string;
  readonly k: number;
  /**
   * Campaigns this request may not see (spent budget, frequency cap): usually a handful, so the
   * cost is per ad of those campaigns, not per eligible ad.
   */
  readonly excludeCampaigns?: ReadonlySet<number>;
}

/** Parallel arrays, best first. Scores are cosine similarities, or USD per impression for 'popular'. */
export interface RetrievalResult {
  readonly adIds: number[];
  readonly scores: number[];
  readonly sources: CandidateSource[];
  /** Ads that passed targeting and the exclusions for this request. */
  readonly eligible: number;
}

export const AD_INDEX_DEFAULTS = {
  efSearch: 128,
  // Measured at 1M ads x 64 dims, k = 500 (npm run bench:retrieval, tools/bench/README.md): a packed
  // scan of 10,000 ads takes 0.44 ms while it stays in cache and 1.4 ms p50 between searches of
  // other buckets, with recall 1; a graph of those 10,000 answers in 0.6 ms but recalls only 0.954,
  // since k is 5% of it, while a 100,000-ad bucket graph recalls 0.998. So buckets scan exactly up
  // to 20,000 ads (about 2.5 ms cold at most, 5 MB of vectors per bucket at 64 dims) and get a graph
  // above; a k much below 500 would favour a lower threshold.
  exactThreshold: 20_000,
  bucketGraphMaxShare: 0.5,
  bucketGraphBudget: 1,
  m: 16,
  efConstruction: 200,
  sliceSize: 250,
} as const;

const HNSW_RANDOM_SEED = 100;
/**
 * Over-fetching from the catalog graph takes k / share neighbours: up to twice k here, cheaper than
 * hnswlib's JS filter; below it the filter (or a bucket graph) is the better deal.
 */
const OVERFETCH_MIN_SHARE = 0.5;
/** Margin on k / share, so that an unlucky neighbourhood rarely leaves the over-fetch short. */
const OVERFETCH_MARGIN = 1.25;

interface Prepared {
  readonly ids: Float64Array;
  readonly vectors: Float32Array;
  readonly prior: Float64Array;
  /** The campaign id of each slot. */
  readonly campaigns: Float64Array;
  readonly eligibility: EligibilityTable;
  readonly slotsByCampaign: ReadonlyMap<number, readonly number[]>;
}

/**
 * At most this many ads of one campaign in the popular list before every eligible campaign has had
 * its turn. The list answers every user the funnel knows nothing about, so without a cap it is the
 * same few top-bid campaigns for all of them: once their budgets are reserved or spent (or their
 * frequency caps reached), every cold-start request loses its whole candidate set at once.
 */
export const POPULAR_PER_CAMPAIGN = 2;

/** The per-bucket search structure; `packed` holds `slots`' vectors back to back, in that order. */
type BucketPlan =
  | { readonly strategy: 'exact'; readonly slots: Int32Array; readonly packed: Float32Array }
  | { readonly strategy: 'graph' | 'filtered-graph'; readonly share: number }
  | { readonly strategy: 'bucket-graph'; readonly graph: HnswIndex };

const NO_SLOTS: ReadonlySet<number> = new Set();

/**
 * The searchable ad index of one catalog snapshot: HNSW (inner product over unit vectors, i.e. cosine)
 * over active ads of active campaigns, targeting precomputed per (country, device), and per bucket the
 * cheapest structure that keeps recall (see SearchStrategy): an exact scan for small eligible sets,
 * a graph of their own for mid-sized ones, the catalog graph for the rest; plus a popularity list for
 * users without interests. Immutable once built: a new snapshot gets a new index, swapped in whole.
 */
export class AdIndex {
  readonly version: string;
  readonly size: number;

  private constructor(
    readonly catalogVersion: string,
    readonly builtAt: Date,
    readonly buildMs: number,
    readonly dim: number,
    readonly efSearch: number,
    readonly exactThreshold: number,
    private readonly data: Prepared,
    private readonly hnsw: HnswIndex,
    private readonly plans: readonly BucketPlan[],
  ) {
    this.size = data.ids.length;
    this.version = `${catalogVersion}@${builtAt.toISOString()}`;
  }

  /** Builds in one go; blocks the event loop for the whole HNSW construction. */
  static build(ads: readonly IndexableAd[], options: AdIndexOptions): AdIndex {
    const steps = AdIndex.construct(ads, options);
    for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
  }

  /**
   * Builds in slices of `sliceSize` points, yielding to the event loop between slices, so a service
   * keeps answering (from its previous index) and health checks stay green during a rebuild.
   */
  static async buildInSlices(ads: readonly IndexableAd[], options: AdIndexOptions): Promise<AdIndex> {
    const steps = AdIndex.construct(ads, options);
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private static *construct(ads: readonly IndexableAd[], options: AdIndexOptions): Generator<void, AdIndex> {
    const startedAt = performance.now();
    const dim = positiveInt('dim', options.dim ?? EMBEDDING_DIM);
    const efSearch = positiveInt('efSearch', options.efSearch ?? AD_INDEX_DEFAULTS.efSearch);
    const exactThreshold = nonNegativeInt(
      'exactThreshold',
      options.exactThreshold ?? AD_INDEX_DEFAULTS.exactThreshold,
    );
    const maxShare = unitShare(
      'bucketGraphMaxShare',
      options.bucketGraphMaxShare ?? AD_INDEX_DEFAULTS.bucketGraphMaxShare,
    );
    const budget = nonNegative(
      'bucketGraphBudget',
      options.bucketGraphBudget ?? AD_INDEX_DEFAULTS.bucketGraphBudget,
    );
    const m = positiveInt('m', options.m ?? AD_INDEX_DEFAULTS.m);
    const efConstruction = positiveInt(
      'efConstruction',
      options.efConstruction ?? AD_INDEX_DEFAULTS.efConstruction,
    );
    const sliceSize = positiveInt('sliceSize', options.sliceSize ?? AD_INDEX_DEFAULTS.sliceSize);

    const data = AdIndex.prepare(ads, dim, options.priors ?? DEFAULT_PREDICTION_PRIORS);
    const n = data.ids.length;
    const point = new Array<number>(dim);
    let added = 0;
    /** A graph over `slots`, labelled by slot, yielding every `sliceSize` points added. */
    function* graphOf(count: number, slotAt: (i: number) => number): Generator<void, HnswIndex> {
      const graph = new HierarchicalNSW('ip', dim);
      // hnswlib rejects an index of capacity 0; an empty catalog still gets a valid (empty) index.
      graph.initIndex({ maxElements: Math.max(1, count), m, efConstruction, randomSeed: HNSW_RANDOM_SEED });
      graph.setEf(efSearch);
      for (let i = 0; i < count; i++) {
        const slot = slotAt(i);
        for (let d = 0; d < dim; d++) point[d] = data.vectors[slot * dim + d]!;
        graph.addPoint(point, slot);
        if (++added % sliceSize === 0) yield;
      }
      return graph;
    }

    const hnsw = yield* graphOf(n, (i) => i);
    const sets = data.eligibility.sets;
    const strategies = planStrategies(
      sets.map((set) => set.slots.length),
      n,
      { exactThreshold, maxShare, budget },
    );
    const plans: BucketPlan[] = [];
    for (const set of sets) {
      const strategy = strategies[set.bucket];
      if (strategy === 'exact') {
        const slots = Int32Array.from(set.slots).sort();
        plans.push({ strategy, slots, packed: packVectors(data.vectors, slots, dim) });
      } else if (strategy === 'bucket-graph') {
        plans.push({ strategy, graph: yield* graphOf(set.slots.length, (i) => set.slots[i]) });
      } else {
        plans.push({ strategy, share: set.slots.length / n });
      }
    }
    return new AdIndex(
      options.catalogVersion,
      new Date(),
      performance.now() - startedAt,
      dim,
      efSearch,
      exactThreshold,
      data,
      hnsw,
      plans,
    );
  }

  private static prepare(ads: readonly IndexableAd[], dim: number, priors: PredictionPriors): Prepared {
    const active = ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
    const n = active.length;
    const ids = new Float64Array(n);
    const vectors = new Float32Array(n * dim);
    const prior = new Float64Array(n);
    const campaigns = new Float64Array(n);
    const seen = new Set<number>();
    const slotsByCampaign = new Map<number, number[]>();
    for (let slot = 0; slot < n; slot++) {
      const ad = active[slot];
      if (seen.has(ad.id)) throw new RangeError(`ad ${ad.id} appears twice in the catalog`);
      seen.add(ad.id);
      ids[slot] = ad.id;
      campaigns[slot] = ad.campaign.id;
      const campaignSlots = slotsByCampaign.get(ad.campaign.id);
      if (campaignSlots === undefined) slotsByCampaign.set(ad.campaign.id, [slot]);
      else campaignSlots.push(slot);
      writeUnitVector(ad, dim, vectors, slot * dim);
      prior[slot] = priorValuePerImpression(ad.campaign, priors);
    }
    const order = Int32Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => prior[b] - prior[a] || ids[a] - ids[b],
    );
    const eligibility = EligibilityTable.build(
      active.map((ad) => ad.campaign),
      order,
    );
    return { ids, vectors, prior, campaigns, eligibility, slotsByCampaign };
  }

  get buckets(): number {
    return this.data.eligibility.bucketCount;
  }

  /** How a request from this country and device is searched (see SearchStrategy). */
  strategyFor(country: string, device: string): SearchStrategy {
    return this.plans[this.data.eligibility.lookup(country, device).bucket].strategy;
  }

  /** Nearest eligible ads to the query; falls back to `popular` when the query has no signal. */
  search(query: RetrievalQuery): RetrievalResult {
    const k = positiveInt('k', query.k);
    const embedding = query.embedding;
    const dim = this.dim;
    if (embedding.length !== dim) {
      throw new RangeError(`query embedding has ${embedding.length} dimensions, expected ${dim}`);
    }
    let zero = true;
    for (let d = 0; d < dim; d++) {
      const v = embedding[d];
      if (!Number.isFinite(v))
        throw new RangeError(`query embedding has a non-finite value at dimension ${d}`);
      if (v !== 0) zero = false;
    }
    if (zero) return this.popular(query);

    const set = this.data.eligibility.lookup(query.country, query.device);
    const excluded = this.excludedSlots(set, query.excludeCampaigns);
    const eligible = set.slots.length - excluded.size;
    const want = Math.min(k, eligible);
    if (want === 0) return { adIds: [], scores: [], sources: [], eligible: 0 };
    const plan = this.plans[set.bucket];
    if (plan.strategy === 'exact') return this.packedScan(embedding, plan, want, excluded, eligible);

    const q = Array.from(embedding);
    // Excluded ads are few (a handful of campaigns): fetching that many more and dropping them keeps
    // hnswlib's per-node JS filter out of the search.
    if (plan.strategy !== 'filtered-graph' && excluded.size <= k) {
      const graph = plan.strategy === 'bucket-graph' ? plan.graph : this.hnsw;
      const share = plan.strategy === 'bucket-graph' || set.admitsAll ? 1 : plan.share;
      const fetch = Math.min(
        graph.getCurrentCount(),
        share === 1 ? want + excluded.size : Math.ceil(((want + excluded.size) / share) * OVERFETCH_MARGIN),
      );
      const found = graph.searchKnn(q, fetch);
      const adIds: number[] = [];
      const scores: number[] = [];
      for (let i = 0; i < found.neighbors.length && adIds.length < want; i++) {
        const slot = found.neighbors[i];
        if (set.bitmap[slot] === 1 && !excluded.has(slot)) {
          adIds.push(this.data.ids[slot]);
          scores.push(1 - found.distances[i]);
        }
      }
      if (adIds.length === want) return { adIds, scores, sources: adIds.map(() => 'ann'), eligible };
    }
    return this.filteredSearch(q, set, want, excluded, eligible);
  }

  /** Eligible ads by the cold-start prior (expected USD per impression at average rates), best first. */
  popular(query: Omit<RetrievalQuery, 'embedding'>): RetrievalResult {
    const k = positiveInt('k', query.k);
    const set = this.data.eligibility.lookup(query.country, query.device);
    const excluded = this.excludedSlots(set, query.excludeCampaigns);
    // Best prior first, POPULAR_PER_CAMPAIGN per campaign; then the rest in prior order if k is not met.
    const top: number[] = [];
    const skipped: number[] = [];
    const perCampaign = new Map<number, number>();
    for (let i = 0; i < set.slots.length && top.length < k; i++) {
      const slot = set.slots[i];
      if (excluded.has(slot)) continue;
      const campaign = this.data.campaigns[slot];
      const taken = perCampaign.get(campaign) ?? 0;
      if (taken < POPULAR_PER_CAMPAIGN) {
        perCampaign.set(campaign, taken + 1);
        top.push(slot);
      } else skipped.push(slot);
    }
    for (let i = 0; i < skipped.length && top.length < k; i++) top.push(skipped[i]);
    const adIds = top.map((slot) => this.data.ids[slot]);
    const scores = top.map((slot) => this.data.prior[slot]);
    return {
      adIds,
      scores,
      sources: adIds.map(() => 'popular'),
      eligible: set.slots.length - excluded.size,
    };
  }

  eligibleCount(country: string, device: string): number {
    return this.data.eligibility.lookup(country, device).slots.length;
  }

  /** The catalog graph behind hnswlib's JS filter, topped up exactly if the walk strands itself. */
  private filteredSearch(
    q: number[],
    set: EligibleSet,
    want: number,
    excluded: ReadonlySet<number>,
    eligible: number,
  ): RetrievalResult {
    const bitmap = set.bitmap;
    const filter =
      excluded.size > 0
        ? (label: number) => bitmap[label] === 1 && !excluded.has(label)
        : set.admitsAll
          ? undefined
          : (label: number) => bitmap[label] === 1;
    const found = this.hnsw.searchKnn(q, want, filter);
    const adIds = found.neighbors.map((slot) => this.data.ids[slot]);
    const scores = found.distances.map((distance) => 1 - distance);
    const sources: CandidateSource[] = adIds.map(() => 'ann');
    if (adIds.length < want) {
      // The filtered graph walk can strand itself in a region with few eligible ads: top up exactly.
      const skip = new Set([...excluded, ...found.neighbors]);
      const topUp = this.gatherScan(q, set, want - adIds.length, skip, eligible);
      return mergeByScore({ adIds, scores, sources, eligible }, topUp);
    }
    return { adIds, scores, sources, eligible };
  }

  private excludedSlots(set: EligibleSet, campaigns: ReadonlySet<number> | undefined): ReadonlySet<number> {
    if (campaigns === undefined || campaigns.size === 0) return NO_SLOTS;
    const slots = new Set<number>();
    for (const campaignId of campaigns) {
      for (const slot of this.data.slotsByCampaign.get(campaignId) ?? []) {
        if (set.bitmap[slot] === 1) slots.add(slot);
      }
    }
    return slots;
  }

  /** Exact top `want` of a small bucket, reading its packed copy front to back. */
  private packedScan(
    embedding: ArrayLike<number>,
    plan: { readonly slots: Int32Array; readonly packed: Float32Array },
    want: number,
    skip: ReadonlySet<number>,
    eligible: number,
  ): RetrievalResult {
    const { ids } = this.data;
    const { slots, packed } = plan;
    const dim = this.dim;
    const q = Float64Array.from(embedding);
    const top = new TopK(want);
    const skips = skip.size > 0;
    for (let i = 0; i < slots.length; i++) {
      if (skips && skip.has(slots[i])) continue;
      top.push(dot(q, packed, i * dim, dim), ids[slots[i]]);
    }
    const { ids: adIds, scores } = top.drain();
    return { adIds, scores, sources: adIds.map(() => 'exact'), eligible };
  }

  /** Exact top `want` of any bucket from the catalog-wide vectors: the rare top-up of a graph walk. */
  private gatherScan(
    embedding: ArrayLike<number>,
    set: EligibleSet,
    want: number,
    skip: ReadonlySet<number>,
    eligible: number,
  ): RetrievalResult {
    const { ids, vectors } = this.data;
    const dim = this.dim;
    const q = Float64Array.from(embedding);
    const top = new TopK(want);
    for (const slot of set.slots) {
      if (skip.has(slot)) continue;
      top.push(dot(q, vectors, slot * dim, dim), ids[slot]);
    }
    const { ids: adIds, scores } = top.drain();
    return { adIds, scores, sources: adIds.map(() => 'exact'), eligible };
  }
}

/** Budget and thresholds that `planStrategies` chooses with; see AdIndexOptions. */
export interface StrategyLimits {
  readonly exactThreshold: number;
  readonly maxShare: number;
  readonly budget: number;
}

/**
 * The search strategy of each bucket from its eligible count: exact below the threshold, the catalog
 * graph when the bucket sees every ad, a bucket graph for the smallest buckets above the threshold
 * while the budget lasts, the catalog graph over-fetched or filtered for the rest.
 */
export function planStrategies(
  eligibleCounts: readonly number[],
  catalogSize: number,
  limits: StrategyLimits,
): SearchStrategy[] {
  const strategies = eligibleCounts.map((count): SearchStrategy => {
    if (count === 0 || count < limits.exactThreshold) return 'exact';
    if (count === catalogSize || count / catalogSize >= OVERFETCH_MIN_SHARE) return 'graph';
    return 'filtered-graph';
  });
  let room = limits.budget * catalogSize;
  const bySize = [...eligibleCounts.keys()].sort((a, b) => eligibleCounts[a] - eligibleCounts[b] || a - b);
  for (const bucket of bySize) {
    const count = eligibleCounts[bucket];
    if (strategies[bucket] === 'exact' || count === catalogSize) continue;
    if (count / catalogSize > limits.maxShare || count > room) continue;
    strategies[bucket] = 'bucket-graph';
    room -= count;
  }
  return strategies;
}

function packVectors(vectors: Float32Array, slots: Int32Array, dim: number): Float32Array {
  const packed = new Float32Array(slots.length * dim);
  for (let i = 0; i < slots.length; i++) {
    packed.set(vectors.subarray(slots[i] * dim, (slots[i] + 1) * dim), i * dim);
  }
  return packed;
}

/** Inner product of `q` with the `dim` values of `v` from `offset`, four lanes at a time. */
function dot(q: Float64Array, v: Float32Array, offset: number, dim: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    a0 += q[d] * v[offset + d];
    a1 += q[d + 1] * v[offset + d + 1];
    a2 += q[d + 2] * v[offset + d + 2];
    a3 += q[d + 3] * v[offset + d + 3];
  }
  for (; d < dim; d++) a0 += q[d] * v[offset + d];
  return a0 + a1 + (a2 + a3);
}

function writeUnitVector(ad: IndexableAd, dim: number, into: Float32Array, offset: number): void {
  const e = ad.embedding;
  if (e.length !== dim) {
    throw new RangeError(`ad ${ad.id} has a ${e.length}-dimensional embedding, expected ${dim}`);
  }
  let norm = 0;
  for (let d = 0; d < dim; d++) {
    const v = e[d];
    if (!Number.isFinite(v))
      throw new RangeError(`ad ${ad.id} has a non-finite embedding value at dimension ${d}`);
    norm += v * v;
  }
  if (norm === 0) throw new RangeError(`ad ${ad.id} has an all-zero embedding`);
  // Re-normalising makes inner product equal cosine even if a stored vector drifted from unit length.
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < dim; d++) into[offset + d] = e[d] * inv;
}

function mergeByScore(a: RetrievalResult, b: RetrievalResult): RetrievalResult {
  const order = [...a.adIds.keys()].map((i) => ({
    id: a.adIds[i],
    score: a.scores[i],
    source: a.sources[i],
  }));
  for (let i = 0; i < b.adIds.length; i++)
    order.push({ id: b.adIds[i], score: b.scores[i], source: b.sources[i] });
  order.sort((x, y) => y.score - x.score || x.id - y.id);
  return {
    adIds: order.map((o) => o.id),
    scores: order.map((o) => o.score),
    sources: order.map((o) => o.source),
    eligible: a.eligible,
  };
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

function unitShare(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new RangeError(`${name} must be a share between 0 and 1, got ${value}`);
  return value;
}
