import { TopK } from '@adfunnel/ad-index';
import { wordsAndBigrams } from '@adfunnel/features';
import { BUILD_SLICE_MS, runInSlices, runToEnd, sliceClock } from './build-slices.js';

/** One ad's text as the lexical index reads it; fields are tokenized apart, so no bigram spans two. */
export interface LexicalDocument {
  readonly id: number;
  readonly fields: readonly string[];
}

export interface LexicalIndexOptions {
  /** BM25 term-frequency saturation. */
  readonly k1?: number;
  /** BM25 length normalisation, 0 (none) to 1 (full). */
  readonly b?: number;
}

export interface LexicalHits {
  readonly adIds: number[];
  /** BM25 scores, best first. */
  readonly scores: number[];
}

export const LEXICAL_DEFAULTS = { k1: 1.2, b: 0.75 } as const;

interface Postings {
  readonly docs: Int32Array;
  readonly tf: Float32Array;
}

/**
 * An inverted index over ad text scored with Okapi BM25, its terms the words and bigrams of
 * libs/features' tokenizer (so a query naming a two-word product, "wireless earbuds", scores the ads
 * with that phrase above those with one of its words): built once per catalog snapshot (like the
 * AdIndex, immutable; a new snapshot builds a new one, in slices off the request path), answered from postings of the query's terms,
 * so a query costs the length of its terms' postings, not the catalog's size.
 */
export class LexicalIndex {
  private constructor(
    private readonly ids: Float64Array,
    private readonly lengthNorm: Float32Array,
    private readonly postings: ReadonlyMap<string, Postings>,
    private readonly idf: ReadonlyMap<string, number>,
    private readonly k1: number,
  ) {}

  static build(docs: readonly LexicalDocument[], options: LexicalIndexOptions = {}): LexicalIndex {
    return runToEnd(LexicalIndex.buildSteps(docs, options, Infinity));
  }

  /** `build`, yielding to the event loop every `sliceMs`: tokenizing 10,000 ads takes tens of milliseconds. */
  static buildInSlices(
    docs: readonly LexicalDocument[],
    options: LexicalIndexOptions = {},
    sliceMs = BUILD_SLICE_MS,
  ): Promise<LexicalIndex> {
    return runInSlices(LexicalIndex.buildSteps(docs, options, sliceMs));
  }

  /** The build as steps, for a caller that slices a larger build (CandidateCatalog). */
  static *buildSteps(
    docs: readonly LexicalDocument[],
    options: LexicalIndexOptions,
    sliceMs: number,
  ): Generator<void, LexicalIndex> {
    const due = sliceClock(sliceMs);
    const k1 = options.k1 ?? LEXICAL_DEFAULTS.k1;
    const b = options.b ?? LEXICAL_DEFAULTS.b;
    if (!Number.isFinite(k1) || k1 < 0)
      throw new RangeError(`BM25 k1 must be a non-negative number, got ${k1}`);
    if (!Number.isFinite(b) || b < 0 || b > 1) throw new RangeError(`BM25 b must be in [0, 1], got ${b}`);
    const n = docs.length;
    const ids = new Float64Array(n);
    const lengths = new Float64Array(n);
    const build = new Map<string, { docs: number[]; tf: number[] }>();
    const seen = new Set<number>();
    let totalLength = 0;
    for (let slot = 0; slot < n; slot++) {
      if ((slot & 63) === 0 && due()) yield;
      const doc = docs[slot];
      if (seen.has(doc.id)) throw new RangeError(`ad ${doc.id} appears twice in the lexical index`);
      seen.add(doc.id);
      ids[slot] = doc.id;
      const counts = new Map<string, number>();
      let length = 0;
      for (const field of doc.fields) {
        for (const term of wordsAndBigrams(field)) {
          counts.set(term, (counts.get(term) ?? 0) + 1);
          length++;
        }
      }
      lengths[slot] = length;
      totalLength += length;
      for (const [term, count] of counts) {
        let p = build.get(term);
        if (p === undefined) build.set(term, (p = { docs: [], tf: [] }));
        p.docs.push(slot);
        p.tf.push(count);
      }
    }
    const mean = n === 0 ? 0 : totalLength / n;
    const lengthNorm = new Float32Array(n);
    for (let slot = 0; slot < n; slot++) {
      lengthNorm[slot] = k1 * (1 - b + (mean === 0 ? 0 : (b * lengths[slot]) / mean));
    }
    const postings = new Map<string, Postings>();
    const idf = new Map<string, number>();
    let terms = 0;
    for (const [term, p] of build) {
      if ((++terms & 255) === 0 && due()) yield;
      postings.set(term, { docs: Int32Array.from(p.docs), tf: Float32Array.from(p.tf) });
      // The BM25+ style idf (log(1 + ...)) stays positive for terms in most documents, e.g. "from".
      idf.set(term, Math.log(1 + (n - p.docs.length + 0.5) / (p.docs.length + 0.5)));
    }
    return new LexicalIndex(ids, lengthNorm, postings, idf, k1);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Distinct terms (words and bigrams) indexed. */
  get terms(): number {
    return this.postings.size;
  }

  /**
   * The `limit` best ads `admit` lets through for the query's terms (each distinct term once), best
   * first, equal scores by smaller id. An empty query, or one whose terms no ad has, matches nothing.
   */
  search(query: string, limit: number, admit: (adId: number) => boolean = () => true): LexicalHits {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`lexical search limit must be a non-negative integer, got ${limit}`);
    }
    const terms = [...new Set(wordsAndBigrams(query))].filter((t) => this.postings.has(t));
    if (terms.length === 0 || limit === 0) return { adIds: [], scores: [] };
    const scores = new Map<number, number>();
    for (const term of terms) {
      const { docs, tf } = this.postings.get(term)!;
      const idf = this.idf.get(term)!;
      for (let i = 0; i < docs.length; i++) {
        const slot = docs[i];
        const f = tf[i];
        const s = (idf * f * (this.k1 + 1)) / (f + this.lengthNorm[slot]);
        scores.set(slot, (scores.get(slot) ?? 0) + s);
      }
    }
    const top = new TopK(limit);
    for (const [slot, score] of scores) {
      const id = this.ids[slot];
      if (admit(id)) top.push(score, id);
    }
    const { ids, scores: best } = top.drain();
    return { adIds: ids, scores: best };
  }
}
