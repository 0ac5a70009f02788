import hnswlib from 'hnswlib-node';
import type { HierarchicalNSW as HnswIndex } from 'hnswlib-node';

// hnswlib-node is a CommonJS addon: its classes are only reachable through the default export in ESM.
const { HierarchicalNSW } = hnswlib;

/**
 * How a (country, device) bucket is searched, fixed at build time from how many ads it may see:
 * - `exact`: a scan of a packed copy of the bucket's vectors (fewer than `exactThreshold` eligible);
 * - `graph`: the catalog-wide graph with no filter, when the bucket sees every ad, or over-fetching
 *   k / share neighbours and dropping the ineligible when it sees at least half of them;
 * - `bucket-graph`: a graph of the bucket's own ads, searched with no filter;
 * - `filtered-graph`: the catalog-wide graph behind hnswlib's filter, which calls into JS once per
 *   node it considers (0.5 to 2.5 µs each as measured, about k / share of them per search): the
 *   fallback for buckets the bucket-graph budget does not cover.
 * Incremental changes keep a bucket's strategy; a compaction plans again.
 */
export type SearchStrategy = 'exact' | 'graph' | 'bucket-graph' | 'filtered-graph';

/** Budget and thresholds that `planStrategies` chooses with; see AdIndexOptions. */
export interface StrategyLimits {
  readonly exactThreshold: number;
  readonly maxShare: number;
  readonly budget: number;
}

/**
 * Over-fetching from the catalog graph takes k / share neighbours: up to twice k here, cheaper than
 * hnswlib's JS filter; below it the filter (or a bucket graph) is the better deal.
 */
export const OVERFETCH_MIN_SHARE = 0.5;

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
  const strategies = eligibleCounts.map((count) => sharedStrategy(count, catalogSize, limits.exactThreshold));
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

/** A strategy that needs no graph of its own: for planning, and for a bucket a new country splits off. */
export function sharedStrategy(count: number, catalogSize: number, exactThreshold: number): SearchStrategy {
  if (count === 0 || count < exactThreshold) return 'exact';
  if (count === catalogSize || count / catalogSize >= OVERFETCH_MIN_SHARE) return 'graph';
  return 'filtered-graph';
}

export interface GraphParams {
  readonly dim: number;
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
}

export const HNSW_RANDOM_SEED = 100;

/** An empty inner-product graph with room for `capacity` points. */
export function newGraph(params: GraphParams, capacity: number): HnswIndex {
  const graph = new HierarchicalNSW('ip', params.dim);
  // hnswlib rejects an index of capacity 0; an empty catalog still gets a valid (empty) index.
  graph.initIndex({
    maxElements: Math.max(1, capacity),
    m: params.m,
    efConstruction: params.efConstruction,
    randomSeed: HNSW_RANDOM_SEED,
  });
  graph.setEf(params.efSearch);
  return graph;
}

/** Room for one more label: hnswlib counts deleted points too, and a resize copies the graph, so grow by a quarter. */
export function makeRoom(graph: HnswIndex): void {
  const max = graph.getMaxElements();
  if (graph.getCurrentCount() < max) return;
  graph.resizeIndex(Math.max(max + 16, Math.ceil(max * 1.25)));
}

/** What every bucket plan does when an ad in its bucket comes, goes or gets a new vector. */
interface PlanOps {
  add(slot: number, vector: Float32Array, point: number[]): void;
  remove(slot: number): void;
}

/** A small bucket: its vectors packed back to back (in `slots` order, which changes on removal). */
export class ExactPlan implements PlanOps {
  readonly strategy = 'exact';
  slots: Int32Array;
  packed: Float32Array;
  count: number;
  private readonly position = new Map<number, number>();

  constructor(
    private readonly dim: number,
    members: Int32Array,
    vectors: Float32Array,
  ) {
    this.count = members.length;
    this.slots = Int32Array.from(members).sort();
    this.packed = new Float32Array(Math.max(1, this.count) * dim);
    for (let i = 0; i < this.count; i++) {
      const slot = this.slots[i];
      this.position.set(slot, i);
      this.packed.set(vectors.subarray(slot * dim, (slot + 1) * dim), i * dim);
    }
  }

  add(slot: number, vector: Float32Array): void {
    if (this.count === this.slots.length) {
      const cap = Math.max(8, Math.ceil(this.slots.length * 1.5));
      const slots = new Int32Array(cap);
      slots.set(this.slots);
      this.slots = slots;
      const packed = new Float32Array(cap * this.dim);
      packed.set(this.packed.subarray(0, this.count * this.dim));
      this.packed = packed;
    }
    this.position.set(slot, this.count);
    this.slots[this.count] = slot;
    this.packed.set(vector, this.count * this.dim);
    this.count++;
  }

  /** Moves the last member into the removed one's place: a scan does not care about order. */
  remove(slot: number): void {
    const at = this.position.get(slot)!;
    const last = --this.count;
    if (at !== last) {
      const moved = this.slots[last];
      this.slots[at] = moved;
      this.position.set(moved, at);
      this.packed.copyWithin(at * this.dim, last * this.dim, (last + 1) * this.dim);
    }
    this.position.delete(slot);
  }
}

/** A mid-sized bucket's own graph; a removed ad stays in it marked deleted until compaction. */
export class BucketGraphPlan implements PlanOps {
  readonly strategy = 'bucket-graph';

  /** @param deleted labels in the graph marked deleted (e.g. found on load) */
  constructor(
    readonly graph: HnswIndex,
    readonly deleted: Set<number> = new Set(),
  ) {}

  /** Points added ahead of their listing (AdIndex.applyInSlices): `add` finds them there. */
  private readonly staged = new Set<number>();

  add(slot: number, _vector: Float32Array, point: number[]): void {
    if (this.staged.delete(slot)) return;
    this.insert(slot, point);
  }

  /** Adds the point before the slot is listed in the bucket, so `add` has nothing left to do. */
  stage(slot: number, point: number[]): void {
    this.insert(slot, point);
    this.staged.add(slot);
  }

  remove(slot: number): void {
    this.graph.markDelete(slot);
    this.deleted.add(slot);
  }

  private insert(slot: number, point: number[]): void {
    // A label the graph holds as deleted comes back with the new vector (hnswlib updates it in place).
    if (!this.deleted.delete(slot)) makeRoom(this.graph);
    this.graph.addPoint(point, slot);
  }
}

/** A bucket searched in the catalog-wide graph: nothing of its own to keep up to date. */
export class SharedGraphPlan implements PlanOps {
  constructor(readonly strategy: 'graph' | 'filtered-graph') {}

  add(): void {}

  remove(): void {}
}

export type BucketPlan = ExactPlan | BucketGraphPlan | SharedGraphPlan;
