import hnswlib from 'hnswlib-node';
import type { HierarchicalNSW as HnswIndex } from 'hnswlib-node';
import type { SearchStrategy } from './bucket-plans.js';

// hnswlib-node is a CommonJS addon: its classes are only reachable through the default export in ESM.
const { HierarchicalNSW } = hnswlib;

/** Bumped whenever the snapshot's parts or their meaning change: an index of another format is rebuilt. */
export const AD_INDEX_FORMAT_VERSION = 1;

/**
 * What an index is, in JSON: the identity a saved index is checked against before it is used (the
 * embedding its vectors came from, dimension, layout parameters), the catalog it reflects, counts,
 * the distinct targeting rules and each bucket's place and strategy.
 */
export interface IndexMeta {
  readonly formatVersion: number;
  readonly embeddingVersion: string;
  readonly catalogVersion: string;
  readonly dim: number;
  readonly space: 'ip';
  readonly params: {
    readonly m: number;
    readonly efConstruction: number;
    readonly exactThreshold: number;
    readonly bucketGraphMaxShare: number;
    readonly bucketGraphBudget: number;
    readonly priors: { readonly pCtr: number; readonly pCvr: number };
  };
  readonly counts: {
    /** Slots handed out: live ads plus free slots (points marked deleted in the catalog graph). */
    readonly slots: number;
    readonly live: number;
    /** Points marked deleted in all graphs. */
    readonly deleted: number;
    readonly buckets: number;
  };
  readonly builtAt: string;
  readonly buildMs: number;
  /** Distinct targeting rules as [countries, devices]; `SlotArrays.rules` indexes into this. */
  readonly rules: readonly (readonly [readonly string[], readonly string[]])[];
  /** Per bucket, in bucket order: the (country, device) it answers (null: any other) and its strategy. */
  readonly buckets: readonly {
    readonly country: string | null;
    readonly device: string | null;
    readonly strategy: SearchStrategy;
  }[];
}

/**
 * An index's parts as a saver writes them and a loader hands them back to AdIndex.restore: the meta,
 * per-slot arrays (`slots` entries each; vectors `slots * dim`) and the HNSW graphs, whose own
 * files hnswlib writes and reads (writeIndex / readIndex).
 */
export interface IndexSnapshot {
  readonly meta: IndexMeta;
  readonly ids: Float64Array;
  readonly prior: Float64Array;
  readonly campaigns: Float64Array;
  readonly vectors: Float32Array;
  /** Each slot's position in `meta.rules`; -1 for a free slot. */
  readonly rules: Int32Array;
  /** Each slot's vector key (IndexableAd.vectorKey), when any slot has one. */
  readonly keys: readonly (string | null)[] | undefined;
  /** The catalog graph: a point per slot, free slots marked deleted. */
  readonly graph: HnswIndex;
  /** The own graph of each bucket whose strategy is `bucket-graph`, by bucket. */
  readonly bucketGraphs: ReadonlyMap<number, HnswIndex>;
}

/** Why a saved index is not used: none there, one of another embedding or layout, or damaged parts. */
export class SavedIndexError extends Error {
  constructor(
    readonly reason: 'absent' | 'mismatch' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'SavedIndexError';
  }
}

/** A graph as IndexSnapshot holds it. */
export type SnapshotGraph = IndexSnapshot['graph'];

/**
 * An empty graph of the index's space and `dim`, for a loader to fill with hnswlib's
 * `readIndex(file)` before it goes into an IndexSnapshot: reading files is the loader's business.
 */
export function graphToRead(dim: number): SnapshotGraph {
  return new HierarchicalNSW('ip', dim);
}
