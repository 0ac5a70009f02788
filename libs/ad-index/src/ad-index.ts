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

export interface AdIndexOptions {
  readonly catalogVersion: string;
  /** HNSW search breadth; higher is slower and recalls more. */
  readonly efSearch?: number;
  /** Eligible sets smaller than this are scanned exactly instead of searched through HNSW. */
  readonly exactThreshold?: number;
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
  exactThreshold: 4000,
  m: 16,
  efConstruction: 200,
  sliceSize: 250,
} as const;

const HNSW_RANDOM_SEED = 100;

interface Prepared {
  readonly ids: Float64Array;
  readonly vectors: Float32Array;
  readonly prior: Float64Array;
  readonly eligibility: EligibilityTable;
  readonly slotsByCampaign: ReadonlyMap<number, readonly number[]>;
}

const NO_SLOTS: ReadonlySet<number> = new Set();

/**
 * The searchable ad index of one catalog snapshot: HNSW (inner product over unit vectors, i.e. cosine)
 * over active ads of active campaigns, targeting precomputed per (country, device), an exact scan for
 * small eligible sets (hnswlib calls the JS filter once per visited node, which gets slow when the
 * filter admits few ads) and a popularity list for users without interests. Immutable once built:
 * a new snapshot gets a new index, swapped in whole.
 */
export class AdIndex {
  readonly version: string;
  readonly size: number;

  private constructor(
    readonly catalogVersion: string,
    readonly builtAt: Date,
    readonly buildMs: number,
    readonly efSearch: number,
    readonly exactThreshold: number,
    private readonly data: Prepared,
    private readonly hnsw: HnswIndex,
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
    const efSearch = positiveInt('efSearch', options.efSearch ?? AD_INDEX_DEFAULTS.efSearch);
    const exactThreshold = nonNegativeInt(
      'exactThreshold',
      options.exactThreshold ?? AD_INDEX_DEFAULTS.exactThreshold,
    );
    const m = positiveInt('m', options.m ?? AD_INDEX_DEFAULTS.m);
    const efConstruction = positiveInt(
      'efConstruction',
      options.efConstruction ?? AD_INDEX_DEFAULTS.efConstruction,
    );
    const sliceSize = positiveInt('sliceSize', options.sliceSize ?? AD_INDEX_DEFAULTS.sliceSize);

    const data = AdIndex.prepare(ads, options.priors ?? DEFAULT_PREDICTION_PRIORS);
    const n = data.ids.length;
    const hnsw = new HierarchicalNSW('ip', EMBEDDING_DIM);
    // hnswlib rejects an index of capacity 0; an empty catalog still gets a valid (empty) index.
    hnsw.initIndex({ maxElements: Math.max(1, n), m, efConstruction, randomSeed: HNSW_RANDOM_SEED });
    hnsw.setEf(efSearch);
    const point = new Array<number>(EMBEDDING_DIM);
    for (let slot = 0; slot < n; slot++) {
      const offset = slot * EMBEDDING_DIM;
      for (let d = 0; d < EMBEDDING_DIM; d++) point[d] = data.vectors[offset + d]!;
      hnsw.addPoint(point, slot);
      if ((slot + 1) % sliceSize === 0 && slot + 1 < n) yield;
    }
    return new AdIndex(
      options.catalogVersion,
      new Date(),
      performance.now() - startedAt,
      efSearch,
      exactThreshold,
      data,
      hnsw,
    );
  }

  private static prepare(ads: readonly IndexableAd[], priors: PredictionPriors): Prepared {
    const active = ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
    const n = active.length;
    const ids = new Float64Array(n);
    const vectors = new Float32Array(n * EMBEDDING_DIM);
    const prior = new Float64Array(n);
    const seen = new Set<number>();
    const slotsByCampaign = new Map<number, number[]>();
    for (let slot = 0; slot < n; slot++) {
      const ad = active[slot];
      if (seen.has(ad.id)) throw new RangeError(`ad ${ad.id} appears twice in the catalog`);
      seen.add(ad.id);
      ids[slot] = ad.id;
      const campaignSlots = slotsByCampaign.get(ad.campaign.id);
      if (campaignSlots === undefined) slotsByCampaign.set(ad.campaign.id, [slot]);
      else campaignSlots.push(slot);
      writeUnitVector(ad, vectors, slot * EMBEDDING_DIM);
      prior[slot] = priorValuePerImpression(ad.campaign, priors);
    }
    const order = Int32Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => prior[b] - prior[a] || ids[a] - ids[b],
    );
    const eligibility = EligibilityTable.build(
      active.map((ad) => ad.campaign),
      order,
    );
    return { ids, vectors, prior, eligibility, slotsByCampaign };
  }

  get buckets(): number {
    return this.data.eligibility.bucketCount;
  }

  /** Nearest eligible ads to the query; falls back to `popular` when the query has no signal. */
  search(query: RetrievalQuery): RetrievalResult {
    const k = positiveInt('k', query.k);
    const embedding = query.embedding;
    if (embedding.length !== EMBEDDING_DIM) {
      throw new RangeError(`query embedding has ${embedding.length} dimensions, expected ${EMBEDDING_DIM}`);
    }
    let zero = true;
    for (let d = 0; d < EMBEDDING_DIM; d++) {
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
    if (eligible < this.exactThreshold) return this.exactScan(embedding, set, want, excluded, eligible);

    const bitmap = set.bitmap;
    const filter =
      excluded.size > 0
        ? (label: number) => bitmap[label] === 1 && !excluded.has(label)
        : set.admitsAll
          ? undefined
          : (label: number) => bitmap[label] === 1;
    const found = this.hnsw.searchKnn(Array.from(embedding), want, filter);
    const adIds = found.neighbors.map((slot) => this.data.ids[slot]);
    const scores = found.distances.map((distance) => 1 - distance);
    const sources: CandidateSource[] = adIds.map(() => 'ann');
    if (adIds.length < want) {
      // The filtered graph walk can strand itself in a region with few eligible ads: top up exactly.
      const skip = new Set([...excluded, ...found.neighbors]);
      const topUp = this.exactScan(embedding, set, want - adIds.length, skip, eligible);
      return mergeByScore({ adIds, scores, sources, eligible }, topUp);
    }
    return { adIds, scores, sources, eligible };
  }

  /** Eligible ads by the cold-start prior (expected USD per impression at average rates), best first. */
  popular(query: Omit<RetrievalQuery, 'embedding'>): RetrievalResult {
    const k = positiveInt('k', query.k);
    const set = this.data.eligibility.lookup(query.country, query.device);
    const excluded = this.excludedSlots(set, query.excludeCampaigns);
    const top: number[] = [];
    for (let i = 0; i < set.slots.length && top.length < k; i++) {
      if (!excluded.has(set.slots[i])) top.push(set.slots[i]);
    }
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

  private exactScan(
    embedding: ArrayLike<number>,
    set: EligibleSet,
    want: number,
    skip: ReadonlySet<number>,
    eligible: number,
  ): RetrievalResult {
    const { ids, vectors } = this.data;
    const q = Float64Array.from(embedding);
    const top = new TopK(want);
    const skips = skip.size > 0;
    for (const slot of set.slots) {
      if (skips && skip.has(slot)) continue;
      const offset = slot * EMBEDDING_DIM;
      let s = 0;
      for (let d = 0; d < EMBEDDING_DIM; d++) s += q[d] * vectors[offset + d];
      top.push(s, ids[slot]);
    }
    const { ids: adIds, scores } = top.drain();
    return { adIds, scores, sources: adIds.map(() => 'exact'), eligible };
  }
}

function writeUnitVector(ad: IndexableAd, into: Float32Array, offset: number): void {
  const e = ad.embedding;
  if (e.length !== EMBEDDING_DIM) {
    throw new RangeError(`ad ${ad.id} has a ${e.length}-dimensional embedding, expected ${EMBEDDING_DIM}`);
  }
  let norm = 0;
  for (let d = 0; d < EMBEDDING_DIM; d++) {
    const v = e[d];
    if (!Number.isFinite(v))
      throw new RangeError(`ad ${ad.id} has a non-finite embedding value at dimension ${d}`);
    norm += v * v;
  }
  if (norm === 0) throw new RangeError(`ad ${ad.id} has an all-zero embedding`);
  // Re-normalising makes inner product equal cosine even if a stored vector drifted from unit length.
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < EMBEDDING_DIM; d++) into[offset + d] = e[d] * inv;
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
