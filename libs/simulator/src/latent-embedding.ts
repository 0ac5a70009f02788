import { EMBEDDING_DIM, TOPIC_COUNT, l2Normalize } from '@adfunnel/features';

/**
 * How the simulator makes an ad's visual embedding: its latent topic mixture over a fixed table of
 * one unit vector per topic (plus noise, in marketplace.ts). Ground truth of the simulator: serving
 * sees only the resulting embedding, never this table.
 */
/** Deterministic hash noise in [-1, 1): the table must be identical in every process and language. */
function hashUnit(k: number, d: number): number {
  let h = Math.imul(k + 1, 0x9e3779b1) ^ Math.imul(d + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return ((h >>> 0) / 4294967296) * 2 - 1;
}

let table: Float32Array | undefined;

/** Row-major TOPIC_COUNT x EMBEDDING_DIM table of unit vectors, one per topic. */
export function topicEmbeddingTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(TOPIC_COUNT * EMBEDDING_DIM);
  for (let k = 0; k < TOPIC_COUNT; k++) {
    let norm = 0;
    for (let d = 0; d < EMBEDDING_DIM; d++) {
      const v = hashUnit(k, d);
      t[k * EMBEDDING_DIM + d] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < EMBEDDING_DIM; d++) t[k * EMBEDDING_DIM + d] /= norm;
  }
  table = t;
  return t;
}

export function embedTopicMixture(weights: ArrayLike<number>): Float32Array {
  if (weights.length !== TOPIC_COUNT) {
    throw new RangeError(`topic mixture has ${weights.length} weights, expected ${TOPIC_COUNT}`);
  }
  const t = topicEmbeddingTable();
  const out = new Float32Array(EMBEDDING_DIM);
  for (let k = 0; k < TOPIC_COUNT; k++) {
    const w = weights[k];
    if (w === 0) continue;
    const row = k * EMBEDDING_DIM;
    for (let d = 0; d < EMBEDDING_DIM; d++) out[d] += w * t[row + d];
  }
  return l2Normalize(out);
}
