import { TOPIC_COUNT } from './topics.js';

/** Dimension of the shared ad/user embedding space that retrieval searches. */
export const EMBEDDING_DIM = 32;

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

export function l2Normalize(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
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

/** The retrieval query for a user: their interest profile embedded in the ad space. */
export function userEmbedding(interests: ArrayLike<number>): Float32Array {
  return embedTopicMixture(interests);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
