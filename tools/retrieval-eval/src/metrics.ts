/**
 * Top-K retrieval metrics over a full ranking: Recall@K = |top K ∩ relevant| / |relevant| (the
 * denominator is every relevant item, as in the LightGCN and BPR evaluations, so a user with more test
 * items than K cannot reach 1), and NDCG@K with binary gains: DCG = sum over hits at rank r (1-based)
 * of 1 / log2(r + 1), divided by the DCG of min(K, |relevant|) hits at the top.
 */
export interface UserMetrics {
  readonly recall: number;
  readonly ndcg: number;
}

export function positiveK(k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`K must be a positive integer, got ${k}`);
  return k;
}

/** `ranked` best first (it may be longer than k); `relevant` must not be empty. */
export function userMetrics(
  ranked: ArrayLike<number>,
  relevant: ReadonlySet<number>,
  k: number,
): UserMetrics {
  positiveK(k);
  if (relevant.size === 0) throw new RangeError('a user needs at least one relevant item to be evaluated');
  const depth = Math.min(k, ranked.length);
  let hits = 0;
  let dcg = 0;
  for (let r = 0; r < depth; r++) {
    if (relevant.has(ranked[r])) {
      hits++;
      dcg += 1 / Math.log2(r + 2);
    }
  }
  let ideal = 0;
  for (let r = 0; r < Math.min(k, relevant.size); r++) ideal += 1 / Math.log2(r + 2);
  return { recall: hits / relevant.size, ndcg: dcg / ideal };
}

export interface MetricsAtK {
  readonly k: number;
  readonly recall: number;
  readonly ndcg: number;
}

/**
 * Mean Recall@K and NDCG@K over users: `top` holds `width` item indices per user, row-major, in the
 * order of `relevant`.
 */
export function meanMetrics(
  top: Int32Array,
  width: number,
  relevant: readonly ReadonlySet<number>[],
  ks: readonly number[],
): MetricsAtK[] {
  if (top.length !== width * relevant.length) {
    throw new RangeError(
      `top lists hold ${top.length} entries, expected ${relevant.length} users x ${width}`,
    );
  }
  return ks.map((k) => {
    positiveK(k);
    if (k > width) throw new RangeError(`K ${k} is deeper than the ranked lists (${width})`);
    let recall = 0;
    let ndcg = 0;
    for (let u = 0; u < relevant.length; u++) {
      const m = userMetrics(top.subarray(u * width, u * width + k), relevant[u], k);
      recall += m.recall;
      ndcg += m.ndcg;
    }
    const n = Math.max(relevant.length, 1);
    return { k, recall: recall / n, ndcg: ndcg / n };
  });
}

/** Mean share of the exact top K that the approximate top K also holds (ANN recall, or overlap@K). */
export function meanOverlap(
  approx: ArrayLike<number>,
  exact: ArrayLike<number>,
  width: number,
  k: number,
): number {
  positiveK(k);
  if (approx.length !== exact.length || exact.length % width !== 0 || k > width) {
    throw new RangeError(`overlap needs two lists of one shape and k <= ${width}`);
  }
  const users = exact.length / width;
  let total = 0;
  for (let u = 0; u < users; u++) {
    // -1 pads a list past the user's last rankable item: the exact list's real entries are the truth.
    const truth = new Set<number>();
    for (let r = 0; r < k; r++) if (exact[u * width + r] >= 0) truth.add(exact[u * width + r]);
    let hits = 0;
    for (let r = 0; r < k; r++) if (truth.has(approx[u * width + r])) hits++;
    total += truth.size === 0 ? 1 : hits / truth.size;
  }
  return users === 0 ? 1 : total / users;
}
