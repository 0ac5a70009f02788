/**
 * Share of the oracle's best ads that retrieval returned: |retrieved ∩ oracle| / |oracle|. With an
 * empty oracle list (nothing eligible) there is nothing to miss, and recall is 1.
 */
export function recall(retrieved: Iterable<number>, oracleBest: readonly number[]): number {
  if (oracleBest.length === 0) return 1;
  const got = new Set(retrieved);
  let hits = 0;
  for (const id of oracleBest) if (got.has(id)) hits++;
  return hits / oracleBest.length;
}
