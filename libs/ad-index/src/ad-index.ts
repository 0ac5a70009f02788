import { EMBEDDING_DIM } from '@adfunnel/features';
import { DEFAULT_PREDICTION_PRIORS, type PredictionPriors } from '@adfunnel/utility';
import type { HierarchicalNSW as HnswIndex } from 'hnswlib-node';
import {
  AD_INDEX_FORMAT_VERSION,
  type IndexMeta,
  type IndexSnapshot,
  SavedIndexError,
} from './ad-index-snapshot.js';
import {
  BucketGraphPlan,
  type BucketPlan,
  ExactPlan,
  type GraphParams,
  SharedGraphPlan,
  makeRoom,
  newGraph,
  type SearchStrategy,
  planStrategies,
  sharedStrategy,
} from './bucket-plans.js';
import {
  EligibilityBatch,
  EligibilityTable,
  type EligibleSet,
  type SlotOrder,
  type TargetingRule,
} from './eligibility-table.js';
import { priorValuePerImpression, type PricedCampaign } from './popularity-prior.js';
import { RuleInterner, SlotColumns } from './slot-columns.js';
import { TopK, selectTopK } from './top-k.js';

export { planStrategies, type SearchStrategy, type StrategyLimits } from './bucket-plans.js';
export * from './ad-index-snapshot.js';

/** The part of a catalog ad the index reads; `CatalogAd` from @adfunnel/catalog satisfies it. */
export interface IndexableAd {
  readonly id: number;
  /** The ad itself can be paused inside an active campaign. */
  readonly status: string;
  readonly embedding: ArrayLike<number>;
  readonly campaign: PricedCampaign & TargetingRule & { readonly status: string };
  /**
   * What the embedding was computed from, in the caller's terms (a hash of a tower's inputs): kept
   * and saved with the vector, so a caller can reuse a loaded index's vectors instead of recomputing.
   */
  readonly vectorKey?: string;
}

export type CandidateSource = 'ann' | 'exact' | 'popular';

export interface AdIndexOptions {
  readonly catalogVersion: string;
  /**
   * What the vectors came from (a content embedding's fingerprint, a tower model's version): a
   * saved index loads only for the caller that expects the same.
   */
  readonly embeddingVersion?: string;
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
  /** Points added between yields to the event loop in `buildInSlices` and `compact`. */
  readonly sliceSize?: number;
}

/** What a caller expects of a saved index: the options it would build with, and the embedding its vectors must come from. */
export type LoadExpectation = Omit<AdIndexOptions, 'catalogVersion'> & { readonly embeddingVersion: string };

/** Where a snapshot handed to AdIndex.restore was read from, for the index's origin. */
export interface SnapshotSource {
  readonly dir: string;
  readonly savedAt: string;
  /** performance.now() when reading began: the load time reported counts from here. */
  readonly startedAt: number;
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

/** One servable ad as the index keeps it: a unit vector, its prior and its interned targeting. */
export interface IndexRow {
  readonly id: number;
  readonly campaignId: number;
  readonly prior: number;
  readonly rule: TargetingRule;
  readonly vector: Float32Array;
  readonly key: string | undefined;
}

/**
 * What a catalog changes against the index's current state (`AdIndex.changes`): applied in place by
 * `apply`, only to the state it was computed against.
 */
export interface IndexChanges {
  /** The index state these were computed against (AdIndex.generation). */
  readonly generation: number;
  readonly added: readonly IndexRow[];
  /** Rows whose vector, targeting, prior, campaign or key differ; `vectorChanged` tells which need graph work. */
  readonly updated: readonly (IndexRow & { readonly vectorChanged: boolean })[];
  readonly removed: readonly number[];
  readonly unchanged: number;
}

export interface AppliedChanges {
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly ms: number;
  /** Of `ms`, the synchronous switch that made the change visible (the rest ran in slices, for applyInSlices). */
  readonly switchMs: number;
}

/** Where the index in hand came from: built from ads, or loaded from a saved directory. */
export type IndexOrigin =
  | { readonly kind: 'built'; readonly ms: number }
  | { readonly kind: 'loaded'; readonly ms: number; readonly dir: string; readonly savedAt: string };

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

/** `embeddingVersion` of an index whose builder named none. */
export const UNSPECIFIED_EMBEDDING = 'unspecified';

/** Every build and search setting, checked: what the index keeps and a saved one records. */
export interface IndexParams extends GraphParams {
  readonly embeddingVersion: string;
  readonly exactThreshold: number;
  readonly maxShare: number;
  readonly budget: number;
  readonly priors: PredictionPriors;
  readonly sliceSize: number;
}

/** applyInSlices yields to the event loop once a slice of graph insertions has run this long. */
const APPLY_SLICE_MS = 10;
const DIFF_SLICE_MS = 4;
/** Margin on k / share, so that an unlucky neighbourhood rarely leaves the over-fetch short. */
const OVERFETCH_MARGIN = 1.25;
/**
 * Vector components within this of the index's copy count as unchanged: a vector normalised once
 * more (a loaded index's vector handed back) differs in the last bit, a real change by far more.
 */
const VECTOR_TOLERANCE = 1e-6;

/**
 * At most this many ads of one campaign in the popular list before every eligible campaign has had
 * its turn. The list answers every user the funnel knows nothing about, so without a cap it is the
 * same few top-bid campaigns for all of them: once their budgets are reserved or spent (or their
 * frequency caps reached), every cold-start request loses its whole candidate set at once.
 */
export const POPULAR_PER_CAMPAIGN = 2;

const NO_SLOTS: ReadonlySet<number> = new Set();

/**
 * The searchable ad index of a catalog: HNSW (inner product over unit vectors, i.e. cosine) over
 * active ads of active campaigns, targeting precomputed per (country, device), and per bucket the
 * cheapest structure that keeps recall (see SearchStrategy): an exact scan for small eligible sets,
 * a graph of their own for mid-sized ones, the catalog graph for the rest; plus a popularity list for
 * users without interests.
 *
 * A catalog change is applied in place (`changes`, then `apply` or `applyInSlices`): new vectors go
 * into the graphs first under new slots that no eligibility list holds, then one synchronous switch
 * lists them and unlists what went, so a search sees the state before or after a change set, never a
 * mix. A removed ad's point, and the old point of a changed vector, stay in the graphs marked deleted;
 * they still cost search time and recall, so `needsCompaction` tells when to rebuild (`compact`) and
 * swap the result in. `persist` hands a snapshot to a writer and `restore` takes one back, refusing
 * an index of another embedding or layout: the index survives restarts without a rebuild.
 */
export class AdIndex {
  private catalog: string;
  private generationCount = 0;
  private saving = 0;
  /** True while applySteps runs: staged points are in the graphs but listed nowhere yet. */
  private staging = false;
  /**
   * Slots of removed ads, marked deleted in the graphs until a compaction purges them. Never reused:
   * hnswlib's update of a deleted point costs several insertions.
   */
  private readonly free: number[] = [];
  private readonly slotOf = new Map<number, number>();
  private readonly slotsByCampaign = new Map<number, Set<number>>();
  private readonly rules = new RuleInterner();
  private readonly point: number[];
  private readonly changeCounts = { added: 0, updated: 0, removed: 0 };
  /** Scores of the exact scan under way, and the selection's scratch copy (searches are synchronous). */
  private scanScores = new Float64Array(0);
  private scanScratch = new Float64Array(0);
  /** Best prior first, then the smaller ad id: the order of every eligible list. */
  private readonly order: SlotOrder = (a, b) => {
    const { prior, ids } = this.columns;
    return prior[b] - prior[a] || ids[a] - ids[b];
  };

  private constructor(
    readonly params: IndexParams,
    catalogVersion: string,
    readonly builtAt: Date,
    /** How long the HNSW build took (the original build, for a loaded index). */
    readonly buildMs: number,
    private source: IndexOrigin,
    private readonly columns: SlotColumns,
    private readonly table: EligibilityTable,
    private readonly hnsw: HnswIndex,
    private readonly plans: BucketPlan[],
  ) {
    this.catalog = catalogVersion;
    this.point = new Array<number>(params.dim);
    for (let slot = 0; slot < columns.used; slot++) {
      if (!columns.isLive(slot)) {
        this.free.push(slot);
        continue;
      }
      this.slotOf.set(columns.ids[slot], slot);
      this.campaignSlots(columns.campaigns[slot]).add(slot);
      // A loaded index's rules come as plain objects: intern them so identity comparison holds.
      columns.rules[slot] = this.rules.intern(columns.rules[slot]!);
    }
  }

  /** Builds in one go; blocks the event loop for the whole HNSW construction. */
  static build(ads: readonly IndexableAd[], options: AdIndexOptions): AdIndex {
    const params = resolveParams(options);
    const steps = AdIndex.construct(
      prepareRows(ads, params, new RuleInterner()),
      params,
      options.catalogVersion,
    );
    for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
  }

  /**
   * Builds in slices of `sliceSize` points, yielding to the event loop between slices, so a service
   * keeps answering (from its previous index) and health checks stay green during a rebuild.
   */
  static async buildInSlices(ads: readonly IndexableAd[], options: AdIndexOptions): Promise<AdIndex> {
    const params = resolveParams(options);
    const rows = prepareRows(ads, params, new RuleInterner());
    return AdIndex.runInSlices(AdIndex.construct(rows, params, options.catalogVersion));
  }

  /**
   * The index a snapshot (`persist`'s, written out and read back) describes, if it was built from the
   * embedding and with the layout `expected` names: otherwise a SavedIndexError, reason `mismatch`
   * naming each difference (the caller builds instead), or `corrupt` when the parts do not fit
   * together. Searches with `expected.efSearch`, whatever the snapshot was made with.
   */
  static restore(snapshot: IndexSnapshot, expected: LoadExpectation, source?: SnapshotSource): AdIndex {
    const startedAt = source?.startedAt ?? performance.now();
    const params = resolveParams({ catalogVersion: '', ...expected });
    const { meta } = snapshot;
    const differences = metaMismatches(meta, params);
    if (differences.length > 0) {
      throw new SavedIndexError('mismatch', `saved ad index does not fit: ${differences.join('; ')}`);
    }
    const corrupt = (what: string) =>
      new SavedIndexError('corrupt', `saved ad index is inconsistent: ${what}`);
    const n = meta.counts.slots;
    const { dim } = params;
    for (const [name, length, expectedLength] of [
      ['ids', snapshot.ids.length, n],
      ['prior', snapshot.prior.length, n],
      ['campaigns', snapshot.campaigns.length, n],
      ['vectors', snapshot.vectors.length, n * dim],
      ['rules', snapshot.rules.length, n],
      ['keys', snapshot.keys?.length ?? n, n],
      ['buckets', meta.buckets.length, meta.counts.buckets],
      ['catalog graph points', snapshot.graph.getCurrentCount(), n],
      ['catalog graph dimensions', snapshot.graph.getNumDimensions(), dim],
    ] as const) {
      if (length !== expectedLength) throw corrupt(`${name}: ${length}, expected ${expectedLength}`);
    }
    const columns = new SlotColumns(dim, n);
    columns.ids.set(snapshot.ids);
    columns.prior.set(snapshot.prior);
    columns.campaigns.set(snapshot.campaigns);
    columns.vectors.set(snapshot.vectors);
    const rules = meta.rules.map(([targetCountries, targetDevices]) => ({ targetCountries, targetDevices }));
    const live: number[] = [];
    for (let slot = 0; slot < n; slot++) {
      columns.allocate();
      const r = snapshot.rules[slot];
      if (r === -1) continue;
      if (!(r >= 0 && r < rules.length)) throw corrupt(`slot ${slot} names rule ${r} of ${rules.length}`);
      columns.rules[slot] = rules[r];
      columns.keys[slot] = snapshot.keys?.[slot] ?? undefined;
      live.push(slot);
    }
    if (live.length !== meta.counts.live)
      throw corrupt(`${live.length} live slots, the meta says ${meta.counts.live}`);
    const order = Int32Array.from(live).sort(
      (a, b) => columns.prior[b] - columns.prior[a] || columns.ids[a] - columns.ids[b],
    );
    const table = EligibilityTable.build(columns.rules, order, n, meta.buckets);
    const layout = table.layout;
    if (
      layout.length !== meta.buckets.length ||
      layout.some(
        (key, i) => key.country !== meta.buckets[i].country || key.device !== meta.buckets[i].device,
      )
    ) {
      throw corrupt("the buckets do not match the slots' targeting");
    }
    snapshot.graph.setEf(params.efSearch);
    const plans = meta.buckets.map(({ strategy }, bucket): BucketPlan => {
      const set = table.sets[bucket];
      const graph = snapshot.bucketGraphs.get(bucket);
      if ((strategy === 'bucket-graph') !== (graph !== undefined)) {
        throw corrupt(
          `bucket ${bucket} is ${strategy} ${graph === undefined ? 'without' : 'with'} a graph of its own`,
        );
      }
      if (strategy === 'exact') return new ExactPlan(dim, set.slots, columns.vectors);
      if (graph === undefined) return new SharedGraphPlan(strategy === 'graph' ? 'graph' : 'filtered-graph');
      if (graph.getNumDimensions() !== dim)
        throw corrupt(`bucket ${bucket}'s graph has ${graph.getNumDimensions()} dimensions`);
      graph.setEf(params.efSearch);
      const deleted = new Set(graph.getIdsList().filter((label) => set.bitmap[label] !== 1));
      return new BucketGraphPlan(graph, deleted);
    });
    const index = new AdIndex(
      params,
      meta.catalogVersion,
      new Date(meta.builtAt),
      meta.buildMs,
      { kind: 'loaded', ms: 0, dir: source?.dir ?? '', savedAt: source?.savedAt ?? '' },
      columns,
      table,
      snapshot.graph,
      plans,
    );
    index.source = { ...index.source, ms: performance.now() - startedAt };
    return index;
  }

  private static async runInSlices(steps: Generator<void, AdIndex>): Promise<AdIndex> {
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private static *construct(
    rows: readonly IndexRow[],
    params: IndexParams,
    catalogVersion: string,
  ): Generator<void, AdIndex> {
    const startedAt = performance.now();
    const { dim, sliceSize } = params;
    const n = rows.length;
    const columns = new SlotColumns(dim, n);
    for (const row of rows) writeRow(columns, columns.allocate(), row);
    const order = Int32Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => columns.prior[b] - columns.prior[a] || columns.ids[a] - columns.ids[b],
    );
    const table = EligibilityTable.build(columns.rules, order, n);
    const point = new Array<number>(dim);
    let added = 0;
    /** A graph over `count` slots, labelled by slot, yielding every `sliceSize` points added. */
    function* graphOf(count: number, slotAt: (i: number) => number): Generator<void, HnswIndex> {
      const graph = newGraph(params, count);
      for (let i = 0; i < count; i++) {
        const slot = slotAt(i);
        for (let d = 0; d < dim; d++) point[d] = columns.vectors[slot * dim + d]!;
        graph.addPoint(point, slot);
        if (++added % sliceSize === 0) yield;
      }
      return graph;
    }

    const hnsw = yield* graphOf(n, (i) => i);
    const sets = table.sets;
    const strategies = planStrategies(
      sets.map((set) => set.slots.length),
      n,
      params,
    );
    const plans: BucketPlan[] = [];
    for (const set of sets) {
      const strategy = strategies[set.bucket];
      if (strategy === 'exact') plans.push(new ExactPlan(dim, set.slots, columns.vectors));
      else if (strategy === 'bucket-graph') {
        const slots = set.slots;
        plans.push(new BucketGraphPlan(yield* graphOf(slots.length, (i) => slots[i])));
      } else plans.push(new SharedGraphPlan(strategy));
    }
    const buildMs = performance.now() - startedAt;
    return new AdIndex(
      params,
      catalogVersion,
      new Date(),
      buildMs,
      { kind: 'built', ms: buildMs },
      columns,
      table,
      hnsw,
      plans,
    );
  }

  /** Built from ads (and how long that took) or loaded from a saved snapshot (where, and how long reading it took). */
  get origin(): IndexOrigin {
    return this.source;
  }

  /** The catalog version the index reflects: the last one applied. */
  get catalogVersion(): string {
    return this.catalog;
  }

  /** `<catalog version>@<built at>`: changes with every catalog applied. */
  get version(): string {
    return `${this.catalog}@${this.builtAt.toISOString()}`;
  }

  get embeddingVersion(): string {
    return this.params.embeddingVersion;
  }

  get dim(): number {
    return this.params.dim;
  }

  get efSearch(): number {
    return this.params.efSearch;
  }

  get exactThreshold(): number {
    return this.params.exactThreshold;
  }

  /** Servable ads in the index. */
  get size(): number {
    return this.table.live;
  }

  get buckets(): number {
    return this.table.bucketCount;
  }

  /** Bumped by every apply: changes computed against one state cannot be applied to another. */
  get generation(): number {
    return this.generationCount;
  }

  /** Points marked deleted in the graphs (catalog graph and bucket graphs), waiting for compaction. */
  get deleted(): number {
    let deleted = this.free.length;
    for (const plan of this.plans) if (plan instanceof BucketGraphPlan) deleted += plan.deleted.size;
    return deleted;
  }

  /** Deleted points as a share of all points in the graphs. */
  get deletedShare(): number {
    let points = this.columns.used;
    for (const plan of this.plans)
      if (plan instanceof BucketGraphPlan) points += plan.graph.getCurrentCount();
    return points === 0 ? 0 : this.deleted / points;
  }

  /** Ads added, updated and removed in place since the index was built (or loaded). */
  get changedSinceBuild(): { added: number; updated: number; removed: number } {
    return { ...this.changeCounts };
  }

  /** True when deleted points exceed `maxDeletedShare` of the graphs: time to `compact`. */
  needsCompaction(maxDeletedShare: number): boolean {
    return this.deleted > 0 && this.deletedShare > maxDeletedShare;
  }

  /** How a request from this country and device is searched (see SearchStrategy). */
  strategyFor(country: string, device: string): SearchStrategy {
    return this.plans[this.table.lookup(country, device).bucket].strategy;
  }

  /** The vector the index holds for an ad (unit length) and the key it was given with, if indexed. */
  vectorOf(adId: number): { vector: Float32Array; key: string | undefined } | undefined {
    const slot = this.slotOf.get(adId);
    if (slot === undefined) return undefined;
    return { vector: this.columns.vector(slot).slice(), key: this.columns.keys[slot] };
  }

  /** Ids of the indexed ads, in slot order. */
  adIds(): number[] {
    return [...this.slotOf.keys()];
  }

  /**
   * What `ads` (a whole catalog, servable or not) change against the index: new servable ads, ads
   * whose vector, targeting, prior or campaign differ, and indexed ads no longer servable or gone.
   * Checks every ad as a build would (so `apply` cannot fail half way on bad data) and mutates nothing.
   */
  changes(ads: readonly IndexableAd[]): IndexChanges {
    const steps = this.changeSteps(ads, Infinity);
    for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
  }

  /**
   * `changes`, yielding to the event loop every `sliceMs`: the diff reads every servable ad, tens of
   * milliseconds at 100,000. The index must not change meanwhile (the generation check of apply
   * refuses changes computed against another state).
   */
  async changesInSlices(ads: readonly IndexableAd[], sliceMs = DIFF_SLICE_MS): Promise<IndexChanges> {
    const steps = this.changeSteps(ads, sliceMs);
    // Yield first too: a caller's own synchronous work just before would otherwise add to the first slice.
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  private *changeSteps(ads: readonly IndexableAd[], sliceMs: number): Generator<void, IndexChanges> {
    const { dim, priors } = this.params;
    const generation = this.generationCount;
    let sliceStart = performance.now();
    let n = 0;
    const columns = this.columns;
    const seen = new Set<number>();
    const added: IndexRow[] = [];
    const updated: (IndexRow & { vectorChanged: boolean })[] = [];
    const scratch = new Float32Array(dim);
    let unchanged = 0;
    for (const ad of ads) {
      if ((++n & 255) === 0 && performance.now() - sliceStart >= sliceMs) {
        yield;
        sliceStart = performance.now();
      }
      if (!isServable(ad)) continue;
      if (seen.has(ad.id)) throw new RangeError(`ad ${ad.id} appears twice in the catalog`);
      seen.add(ad.id);
      writeUnitVector(ad, dim, scratch, 0);
      const prior = priorValuePerImpression(ad.campaign, priors);
      const rule = this.rules.intern(ad.campaign);
      const slot = this.slotOf.get(ad.id);
      const row = { id: ad.id, campaignId: ad.campaign.id, prior, rule, key: ad.vectorKey };
      if (slot === undefined) {
        added.push({ ...row, vector: scratch.slice() });
        continue;
      }
      const vectorChanged = !closeTo(scratch, columns.vectors, slot * dim);
      if (
        vectorChanged ||
        prior !== columns.prior[slot] ||
        rule !== columns.rules[slot] ||
        ad.campaign.id !== columns.campaigns[slot] ||
        ad.vectorKey !== columns.keys[slot]
      ) {
        updated.push({
          ...row,
          vector: vectorChanged ? scratch.slice() : columns.vector(slot).slice(),
          vectorChanged,
        });
      } else unchanged++;
    }
    const removed: number[] = [];
    for (const id of this.slotOf.keys()) if (!seen.has(id)) removed.push(id);
    return { generation, added, updated, removed, unchanged };
  }

  /**
   * Applies `changes` in place and records `catalogVersion` as the state the index now reflects, in
   * one synchronous step (blocking for the graph insertions too; see applyInSlices). Refuses changes
   * computed against another state, and any while a writer holds a snapshot (persist).
   */
  apply(changes: IndexChanges, catalogVersion: string): AppliedChanges {
    const steps = this.applySteps(changes, catalogVersion);
    for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
  }

  /**
   * `apply` with the costly part in slices: the new vectors go into the graphs first, under slots no
   * eligibility list names yet (so no search returns them), yielding to the event loop every
   * `sliceMs` (0: after every point); then one synchronous step makes the change visible, which costs microseconds
   * per ad. A changed vector is written as a new point and the old one marked deleted, so until the
   * switch searches answer from the old vector. No other change, save or compaction may run meanwhile.
   */
  async applyInSlices(
    changes: IndexChanges,
    catalogVersion: string,
    sliceMs = APPLY_SLICE_MS,
  ): Promise<AppliedChanges> {
    const steps = this.applySteps(changes, catalogVersion, sliceMs);
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private *applySteps(
    changes: IndexChanges,
    catalogVersion: string,
    sliceMs = Infinity,
  ): Generator<void, AppliedChanges> {
    if (this.saving > 0) {
      throw new Error('the ad index is being saved; apply changes once persist() has resolved');
    }
    if (this.staging) throw new Error('the ad index is applying other changes');
    if (changes.generation !== this.generationCount) {
      throw new Error(
        `these changes were computed against generation ${changes.generation} of the index, which is at ${this.generationCount}`,
      );
    }
    const startedAt = performance.now();
    let sliceStart = startedAt;
    let switchMs: number;
    /** True when this slice has run `sliceMs`: time to yield. */
    const due = () => {
      if (performance.now() - sliceStart < sliceMs) return false;
      sliceStart = performance.now();
      return true;
    };
    this.staging = true;
    try {
      // 1. Graph work, invisible: points under slots that no eligibility list holds yet.
      const adds: { row: IndexRow; slot: number }[] = [];
      const moves: { row: IndexRow; from: number; to: number }[] = [];
      for (const row of changes.added) {
        adds.push({ row, slot: this.stage(row.vector, row.rule) });
        if (due()) yield;
      }
      for (const row of changes.updated) {
        const from = this.slotOf.get(row.id)!;
        if (row.vectorChanged) {
          moves.push({ row, from, to: this.stage(row.vector, row.rule) });
          if (due()) yield;
        } else if (row.rule !== this.columns.rules[from]) {
          // Bucket graphs it enters take its point ahead too.
          this.stageIntoBucketGraphs(from, this.columns.vector(from), row.rule);
          if (due()) yield;
        }
      }
      // 2. The switch, in one synchronous step.
      const switchAt = performance.now();
      // Buckets a new country or device splits off first, as copies of the current lists; then every
      // list's removals and insertions in one pass per bucket, not one shift of the list per ad.
      for (const row of changes.added) this.planBuckets(this.table.ensure(row.rule));
      for (const row of changes.updated) this.planBuckets(this.table.ensure(row.rule));
      const batch = new EligibilityBatch();
      for (const id of changes.removed) this.removeSlot(this.slotOf.get(id)!, batch);
      for (const { row, from, to } of moves) {
        this.removeSlot(from, batch);
        this.activate(to, row, batch);
      }
      for (const row of changes.updated) {
        if (!row.vectorChanged) this.updateSlot(this.slotOf.get(row.id)!, row, batch);
      }
      for (const { row, slot } of adds) this.activate(slot, row, batch);
      this.table.apply(batch, this.order);
      this.catalog = catalogVersion;
      this.generationCount++;
      this.changeCounts.added += changes.added.length;
      this.changeCounts.updated += changes.updated.length;
      this.changeCounts.removed += changes.removed.length;
      switchMs = performance.now() - switchAt;
    } finally {
      this.staging = false;
    }
    return {
      added: changes.added.length,
      updated: changes.updated.length,
      removed: changes.removed.length,
      ms: performance.now() - startedAt,
      switchMs,
    };
  }

  /** A new slot for `vector`, its point in the catalog graph and the bucket graphs of `rule`, listed nowhere yet. */
  private stage(vector: Float32Array, rule: TargetingRule): number {
    const slot = this.columns.allocate();
    this.table.grow(this.columns.capacity);
    this.columns.vectors.set(vector, slot * this.params.dim);
    makeRoom(this.hnsw);
    this.hnsw.addPoint(this.pointOf(vector), slot);
    this.stageIntoBucketGraphs(slot, vector, rule);
    return slot;
  }

  /** Adds the point to the bucket graphs `rule` puts it in that do not hold it yet. */
  private stageIntoBucketGraphs(slot: number, vector: Float32Array, rule: TargetingRule): void {
    for (const b of this.table.existingBucketsOf(rule)) {
      const plan = this.plans[b];
      if (plan instanceof BucketGraphPlan && this.table.sets[b].bitmap[slot] !== 1) {
        plan.stage(slot, this.pointOf(vector));
      }
    }
  }

  /**
   * A fresh build of the ads the index holds now, in slices (the event loop keeps running): no
   * deleted points, strategies planned again. The caller swaps it in; changes applied to this index
   * meanwhile are not in it.
   */
  compact(): Promise<AdIndex> {
    const rows: IndexRow[] = [];
    const columns = this.columns;
    for (let slot = 0; slot < columns.used; slot++) {
      if (!columns.isLive(slot)) continue;
      rows.push({
        id: columns.ids[slot],
        campaignId: columns.campaigns[slot],
        prior: columns.prior[slot],
        rule: columns.rules[slot]!,
        vector: columns.vector(slot).slice(),
        key: columns.keys[slot],
      });
    }
    return AdIndex.runInSlices(AdIndex.construct(rows, this.params, this.catalog));
  }

  /**
   * Hands `write` a snapshot of the index (views of its own memory, and its graphs for hnswlib's
   * writeIndex, which writes from another thread) and takes no changes until `write` has resolved.
   */
  async persist<T>(write: (snapshot: IndexSnapshot) => Promise<T>): Promise<T> {
    if (this.staging) throw new Error('the ad index is applying changes; persist it once they are applied');
    this.saving++;
    try {
      return await write(this.snapshot());
    } finally {
      this.saving--;
    }
  }

  private snapshot(): IndexSnapshot {
    const { columns, params } = this;
    const n = columns.used;
    const ruleIndex = new Map<TargetingRule, number>();
    const rules = new Int32Array(n);
    for (let slot = 0; slot < n; slot++) {
      const rule = columns.rules[slot];
      if (rule === undefined) {
        rules[slot] = -1;
        continue;
      }
      let i = ruleIndex.get(rule);
      if (i === undefined) ruleIndex.set(rule, (i = ruleIndex.size));
      rules[slot] = i;
    }
    const bucketGraphs = new Map<number, HnswIndex>();
    this.plans.forEach((plan, bucket) => {
      if (plan instanceof BucketGraphPlan) bucketGraphs.set(bucket, plan.graph);
    });
    const meta: IndexMeta = {
      formatVersion: AD_INDEX_FORMAT_VERSION,
      embeddingVersion: params.embeddingVersion,
      catalogVersion: this.catalog,
      dim: params.dim,
      space: 'ip',
      params: {
        m: params.m,
        efConstruction: params.efConstruction,
        exactThreshold: params.exactThreshold,
        bucketGraphMaxShare: params.maxShare,
        bucketGraphBudget: params.budget,
        priors: { pCtr: params.priors.pCtr, pCvr: params.priors.pCvr },
      },
      counts: { slots: n, live: this.size, deleted: this.deleted, buckets: this.plans.length },
      builtAt: this.builtAt.toISOString(),
      buildMs: this.buildMs,
      rules: [...ruleIndex.keys()].map((r) => [[...r.targetCountries], [...r.targetDevices]] as const),
      buckets: this.table.layout.map((key, bucket) => ({ ...key, strategy: this.plans[bucket].strategy })),
    };
    return {
      meta,
      ids: columns.ids.subarray(0, n),
      prior: columns.prior.subarray(0, n),
      campaigns: columns.campaigns.subarray(0, n),
      vectors: columns.vectors.subarray(0, n * params.dim),
      rules,
      keys: columns.keys.some((key) => key !== undefined)
        ? Array.from({ length: n }, (_, slot) => columns.keys[slot] ?? null)
        : undefined,
      graph: this.hnsw,
      bucketGraphs,
    };
  }

  private removeSlot(slot: number, batch: EligibilityBatch): void {
    const columns = this.columns;
    const buckets = this.table.bucketsHolding(slot);
    batch.remove(slot, buckets);
    this.table.live--;
    for (const b of buckets) this.plans[b].remove(slot);
    this.hnsw.markDelete(slot);
    this.slotsByCampaign.get(columns.campaigns[slot])?.delete(slot);
    this.slotOf.delete(columns.ids[slot]);
    columns.rules[slot] = undefined;
    columns.keys[slot] = undefined;
    this.free.push(slot);
  }

  /** Lists a staged slot: its row written, in its buckets' lists (with the batch) and plans, found by id. */
  private activate(slot: number, row: IndexRow, batch: EligibilityBatch): void {
    writeRow(this.columns, slot, row);
    const point = this.pointOf(row.vector);
    const buckets = this.table.bucketsOf(row.rule);
    batch.insert(slot, buckets);
    this.table.live++;
    for (const b of buckets) this.plans[b].add(slot, row.vector, point);
    this.slotOf.set(row.id, slot);
    this.campaignSlots(row.campaignId).add(slot);
  }

  /** A change of targeting, prior, campaign or key: the slot and its vector stay. */
  private updateSlot(slot: number, row: IndexRow, batch: EligibilityBatch): void {
    const columns = this.columns;
    const moves = columns.rules[slot] !== row.rule || columns.prior[slot] !== row.prior;
    // Out of its buckets' lists and back in, at the new prior's place.
    const before = moves ? this.table.bucketsHolding(slot) : [];
    if (moves) batch.remove(slot, before);
    if (columns.campaigns[slot] !== row.campaignId) {
      this.slotsByCampaign.get(columns.campaigns[slot])?.delete(slot);
      this.campaignSlots(row.campaignId).add(slot);
    }
    writeRow(columns, slot, row);
    if (!moves) return;
    const after = this.table.bucketsOf(row.rule);
    batch.insert(slot, after);
    const point = this.pointOf(row.vector);
    const was = new Set(before);
    const is = new Set(after);
    for (const b of before) if (!is.has(b)) this.plans[b].remove(slot);
    for (const b of after) if (!was.has(b)) this.plans[b].add(slot, row.vector, point);
  }

  /** Plans for buckets a new country or device split off: a scan or the catalog graph, by size. */
  private planBuckets(created: readonly number[]): void {
    for (const bucket of created) {
      const set = this.table.sets[bucket];
      const strategy = sharedStrategy(set.slots.length, this.size, this.params.exactThreshold);
      this.plans[bucket] =
        strategy === 'exact'
          ? new ExactPlan(this.params.dim, set.slots, this.columns.vectors)
          : new SharedGraphPlan(strategy === 'graph' ? 'graph' : 'filtered-graph');
    }
  }

  private pointOf(vector: Float32Array): number[] {
    const point = this.point;
    for (let d = 0; d < point.length; d++) point[d] = vector[d];
    return point;
  }

  private campaignSlots(campaignId: number): Set<number> {
    let slots = this.slotsByCampaign.get(campaignId);
    if (slots === undefined) {
      slots = new Set();
      this.slotsByCampaign.set(campaignId, slots);
    }
    return slots;
  }

  // ---- search ----------------------------------------------------------------------------------

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

    const set = this.table.lookup(query.country, query.device);
    const excluded = this.excludedSlots(set, query.excludeCampaigns);
    const eligible = set.slots.length - excluded.size;
    const want = Math.min(k, eligible);
    if (want === 0) return { adIds: [], scores: [], sources: [], eligible: 0 };
    const plan = this.plans[set.bucket];
    if (plan instanceof ExactPlan) return this.packedScan(embedding, plan, want, excluded, eligible);

    const q = Array.from(embedding);
    // Excluded ads are few (a handful of campaigns): fetching that many more and dropping them keeps
    // hnswlib's per-node JS filter out of the search.
    if (plan.strategy !== 'filtered-graph' && excluded.size <= k) {
      const graph = plan instanceof BucketGraphPlan ? plan.graph : this.hnsw;
      const share = plan instanceof BucketGraphPlan || set.admitsAll ? 1 : set.slots.length / this.size;
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
          adIds.push(this.columns.ids[slot]);
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
    const set = this.table.lookup(query.country, query.device);
    const excluded = this.excludedSlots(set, query.excludeCampaigns);
    const { campaigns, ids, prior } = this.columns;
    const slots = set.slots;
    // Best prior first, POPULAR_PER_CAMPAIGN per campaign; then the rest in prior order if k is not met.
    const top: number[] = [];
    const skipped: number[] = [];
    const perCampaign = new Map<number, number>();
    for (let i = 0; i < slots.length && top.length < k; i++) {
      const slot = slots[i];
      if (excluded.has(slot)) continue;
      const campaign = campaigns[slot];
      const taken = perCampaign.get(campaign) ?? 0;
      if (taken < POPULAR_PER_CAMPAIGN) {
        perCampaign.set(campaign, taken + 1);
        top.push(slot);
      } else skipped.push(slot);
    }
    for (let i = 0; i < skipped.length && top.length < k; i++) top.push(skipped[i]);
    const adIds = top.map((slot) => ids[slot]);
    const scores = top.map((slot) => prior[slot]);
    return {
      adIds,
      scores,
      sources: adIds.map(() => 'popular'),
      eligible: slots.length - excluded.size,
    };
  }

  eligibleCount(country: string, device: string): number {
    return this.table.lookup(country, device).slots.length;
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
    const ids = this.columns.ids;
    const adIds = found.neighbors.map((slot) => ids[slot]);
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
      for (const slot of this.slotsByCampaign.get(campaignId) ?? []) {
        if (set.bitmap[slot] === 1) slots.add(slot);
      }
    }
    return slots;
  }

  /** Exact top `want` of a small bucket, reading its packed copy front to back. */
  private packedScan(
    embedding: ArrayLike<number>,
    plan: ExactPlan,
    want: number,
    skip: ReadonlySet<number>,
    eligible: number,
  ): RetrievalResult {
    const ids = this.columns.ids;
    const { slots, packed, count } = plan;
    const dim = this.dim;
    const q = Float64Array.from(embedding);
    if (this.scanScores.length < count) {
      this.scanScores = new Float64Array(count);
      this.scanScratch = new Float64Array(count);
    }
    const all = this.scanScores;
    const skips = skip.size > 0;
    for (let i = 0; i < count; i++) {
      all[i] = skips && skip.has(slots[i]) ? -Infinity : dot(q, packed, i * dim, dim);
    }
    // Every score is at hand, so a selection beats a heap push per ad (the dot products stay the cost).
    const best = selectTopK(all, count, want, (i) => ids[slots[i]], this.scanScratch);
    const adIds = new Array<number>(best.length);
    const scores = new Array<number>(best.length);
    const sources = new Array<CandidateSource>(best.length);
    for (let j = 0; j < best.length; j++) {
      adIds[j] = ids[slots[best[j]]];
      scores[j] = all[best[j]];
      sources[j] = 'exact';
    }
    return { adIds, scores, sources, eligible };
  }

  /** Exact top `want` of any bucket from the catalog-wide vectors: the rare top-up of a graph walk. */
  private gatherScan(
    embedding: ArrayLike<number>,
    set: EligibleSet,
    want: number,
    skip: ReadonlySet<number>,
    eligible: number,
  ): RetrievalResult {
    const { ids, vectors } = this.columns;
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

/** The options checked and defaulted: what a build uses and a load compares against. */
export function resolveParams(options: AdIndexOptions): IndexParams {
  return {
    embeddingVersion: options.embeddingVersion ?? UNSPECIFIED_EMBEDDING,
    dim: positiveInt('dim', options.dim ?? EMBEDDING_DIM),
    efSearch: positiveInt('efSearch', options.efSearch ?? AD_INDEX_DEFAULTS.efSearch),
    exactThreshold: nonNegativeInt(
      'exactThreshold',
      options.exactThreshold ?? AD_INDEX_DEFAULTS.exactThreshold,
    ),
    maxShare: unitShare(
      'bucketGraphMaxShare',
      options.bucketGraphMaxShare ?? AD_INDEX_DEFAULTS.bucketGraphMaxShare,
    ),
    budget: nonNegative(
      'bucketGraphBudget',
      options.bucketGraphBudget ?? AD_INDEX_DEFAULTS.bucketGraphBudget,
    ),
    m: positiveInt('m', options.m ?? AD_INDEX_DEFAULTS.m),
    efConstruction: positiveInt('efConstruction', options.efConstruction ?? AD_INDEX_DEFAULTS.efConstruction),
    priors: options.priors ?? DEFAULT_PREDICTION_PRIORS,
    sliceSize: positiveInt('sliceSize', options.sliceSize ?? AD_INDEX_DEFAULTS.sliceSize),
  };
}

/** Each way `meta` differs from what `params` would build, as "what saved X, expected Y". */
function metaMismatches(meta: IndexMeta, params: IndexParams): string[] {
  const saved = meta.params;
  const pairs: [string, unknown, unknown][] = [
    ['format version', meta.formatVersion, AD_INDEX_FORMAT_VERSION],
    ['embedding version', meta.embeddingVersion, params.embeddingVersion],
    ['dim', meta.dim, params.dim],
    ['space', meta.space, 'ip'],
    ['m', saved.m, params.m],
    ['efConstruction', saved.efConstruction, params.efConstruction],
    ['exactThreshold', saved.exactThreshold, params.exactThreshold],
    ['bucketGraphMaxShare', saved.bucketGraphMaxShare, params.maxShare],
    ['bucketGraphBudget', saved.bucketGraphBudget, params.budget],
    ['priors.pCtr', saved.priors.pCtr, params.priors.pCtr],
    ['priors.pCvr', saved.priors.pCvr, params.priors.pCvr],
  ];
  return pairs
    .filter(([, a, b]) => a !== b)
    .map(([what, a, b]) => `${what} saved ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
}

function isServable(ad: IndexableAd): boolean {
  return ad.status === 'active' && ad.campaign.status === 'active';
}

function prepareRows(ads: readonly IndexableAd[], params: IndexParams, rules: RuleInterner): IndexRow[] {
  const seen = new Set<number>();
  const rows: IndexRow[] = [];
  for (const ad of ads) {
    if (!isServable(ad)) continue;
    if (seen.has(ad.id)) throw new RangeError(`ad ${ad.id} appears twice in the catalog`);
    seen.add(ad.id);
    const vector = new Float32Array(params.dim);
    writeUnitVector(ad, params.dim, vector, 0);
    rows.push({
      id: ad.id,
      campaignId: ad.campaign.id,
      prior: priorValuePerImpression(ad.campaign, params.priors),
      rule: rules.intern(ad.campaign),
      vector,
      key: ad.vectorKey,
    });
  }
  return rows;
}

function writeRow(columns: SlotColumns, slot: number, row: IndexRow): void {
  columns.ids[slot] = row.id;
  columns.campaigns[slot] = row.campaignId;
  columns.prior[slot] = row.prior;
  columns.rules[slot] = row.rule;
  columns.keys[slot] = row.key;
  if (row.vector !== columns.vector(slot)) columns.vectors.set(row.vector, slot * columns.dim);
}

function closeTo(v: Float32Array, columns: Float32Array, offset: number): boolean {
  for (let d = 0; d < v.length; d++)
    if (Math.abs(v[d] - columns[offset + d]) > VECTOR_TOLERANCE) return false;
  return true;
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
