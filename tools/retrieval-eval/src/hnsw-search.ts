import hnswlib from 'hnswlib-node';

// hnswlib-node is a CommonJS addon: its classes are only reachable through the default export in ESM.
const { HierarchicalNSW } = hnswlib;

/** libs/ad-index's AD_INDEX_DEFAULTS (checked by hnsw-search.spec.ts): the parameters serving uses. */
export const HNSW_DEFAULTS = { m: 16, efConstruction: 200, efSearch: 128 } as const;
const HNSW_RANDOM_SEED = 100;

export interface HnswOptions {
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
}

export interface HnswTop {
  /** users x k item indices, best first; -1 where the search returned fewer than k items. */
  readonly top: Int32Array;
  readonly buildMs: number;
  readonly searchMs: number;
}

/**
 * Top-k items of each user by inner product through an hnswlib 'ip' index over the item vectors, as
 * serving searches (unit vectors: inner product is cosine). A user's train items are excluded with
 * hnswlib's filter, as serving excludes ads, so the list is comparable to the exact full ranking.
 */
export function hnswTopK(
  itemVectors: Float32Array,
  userVectors: Float32Array,
  dim: number,
  users: Int32Array,
  trainItems: (user: number) => ReadonlySet<number>,
  k: number,
  options: HnswOptions,
): HnswTop {
  const items = itemVectors.length / dim;
  if (!Number.isInteger(items) || items < 1)
    throw new RangeError(`${itemVectors.length} floats are not items x ${dim}`);
  const started = performance.now();
  const index = new HierarchicalNSW('ip', dim);
  index.initIndex({
    maxElements: items,
    m: options.m,
    efConstruction: options.efConstruction,
    randomSeed: HNSW_RANDOM_SEED,
  });
  const point = new Array<number>(dim);
  for (let i = 0; i < items; i++) {
    for (let d = 0; d < dim; d++) point[d] = itemVectors[i * dim + d]!;
    index.addPoint(point, i);
  }
  const buildMs = performance.now() - started;
  index.setEf(Math.max(options.efSearch, k));
  const top = new Int32Array(users.length * k).fill(-1);
  const query = new Array<number>(dim);
  for (let row = 0; row < users.length; row++) {
    const u = users[row];
    for (let d = 0; d < dim; d++) query[d] = userVectors[u * dim + d]!;
    const seen = trainItems(u);
    const wanted = Math.min(k, items - seen.size);
    if (wanted <= 0) continue;
    const found = index.searchKnn(query, wanted, (label: number) => !seen.has(label));
    // hnswlib answers nearest first for 'ip' (smallest distance 1 - <q, v>).
    for (let r = 0; r < found.neighbors.length; r++) top[row * k + r] = found.neighbors[r]!;
  }
  return { top, buildMs, searchMs: performance.now() - started - buildMs };
}
