import { TOPIC_COUNT } from '@adfunnel/features';

/** A mixture weight under this is left out of the category's list (it adds under 1% to a score). */
export const MIN_POSTED_WEIGHT = 0.01;

/** What `top` answers: ad ids best first with their interest match, and how many entries it read. */
export interface InterestMatches {
  readonly adIds: number[];
  readonly scores: number[];
  readonly read: number;
}

/**
 * Every ad's decoded category mixture (libs/features CategoryMixtureDecoder), and per category the ads
 * about it sorted by how much: the index of the `interest` source, which scores an ad for a user by
 * Σ_c affinity_c · mixture_c(ad). `top` finds the best k exactly without scoring the catalog: it walks
 * the lists of the user's categories in step (Fagin's threshold algorithm) and stops once the k-th
 * best found scores at least what an unseen ad could, Σ_c affinity_c · (the weight next in list c).
 * A user with a few strong categories stops after a few hundred entries at any catalog size.
 */
export class InterestPostings {
  private constructor(
    private readonly mixtures: ReadonlyMap<number, Float32Array>,
    /** Per category: ad ids and weights, heaviest first (ties by ad id). */
    private readonly lists: readonly { readonly adIds: Int32Array; readonly weights: Float32Array }[],
  ) {}

  static build(mixtures: ReadonlyMap<number, Float32Array>): InterestPostings {
    const entries: { adId: number; weight: number }[][] = Array.from({ length: TOPIC_COUNT }, () => []);
    for (const [adId, mixture] of mixtures) {
      for (let c = 0; c < TOPIC_COUNT; c++) {
        if (mixture[c] >= MIN_POSTED_WEIGHT) entries[c].push({ adId, weight: mixture[c] });
      }
    }
    const lists = entries.map((list) => {
      list.sort((a, b) => b.weight - a.weight || a.adId - b.adId);
      return {
        adIds: Int32Array.from(list, (e) => e.adId),
        weights: Float32Array.from(list, (e) => e.weight),
      };
    });
    return new InterestPostings(mixtures, lists);
  }

  mixture(adId: number): Float32Array | undefined {
    return this.mixtures.get(adId);
  }

  /**
   * The `k` admitted ads of highest Σ_c affinity_c · mixture_c, best first (ties by ad id); only ads
   * with some weight on a category of more than the user's lowest affinity (a flat affinity finds
   * none). `affinity` has one entry per TOPICS category.
   */
  top(affinity: ArrayLike<number>, k: number, admits: (adId: number) => boolean): InterestMatches {
    if (affinity.length !== TOPIC_COUNT) {
      throw new RangeError(`affinity has ${affinity.length} entries, expected ${TOPIC_COUNT}`);
    }
    // A mixture sums to 1, so Σ_c (affinity_c - floor) · mixture_c ranks ads as Σ_c affinity_c ·
    // mixture_c does, floor added back to each score. The inferred affinity carries a uniform prior
    // (every category above 0): without the floor the walk would read all 16 lists.
    let floor = Infinity;
    for (let c = 0; c < TOPIC_COUNT; c++) floor = Math.min(floor, affinity[c]);
    if (!(floor > 0)) floor = 0;
    const lifted = Float64Array.from({ length: TOPIC_COUNT }, (_, c) => affinity[c] - floor);
    const categories: number[] = [];
    for (let c = 0; c < TOPIC_COUNT; c++) {
      if (lifted[c] > 0 && this.lists[c].adIds.length > 0) categories.push(c);
    }
    if (k <= 0 || categories.length === 0) return { adIds: [], scores: [], read: 0 };
    const best = new TopK(k);
    const seen = new Set<number>();
    const at = new Array<number>(categories.length).fill(0);
    let read = 0;
    for (;;) {
      let threshold = 0;
      let open = false;
      for (let i = 0; i < categories.length; i++) {
        const list = this.lists[categories[i]];
        if (at[i] >= list.adIds.length) continue;
        const adId = list.adIds[at[i]++];
        read++;
        if (!seen.has(adId)) {
          seen.add(adId);
          if (admits(adId)) best.offer(adId, score(lifted, this.mixtures.get(adId)!));
        }
        if (at[i] < list.adIds.length) {
          threshold += lifted[categories[i]] * list.weights[at[i]];
          open = true;
        }
      }
      if (!open || (best.full && best.floor >= threshold)) break;
    }
    const found = best.sorted();
    return { adIds: found.adIds, scores: found.scores.map((s) => s + floor), read };
  }
}

function score(affinity: ArrayLike<number>, mixture: Float32Array): number {
  let s = 0;
  for (let c = 0; c < TOPIC_COUNT; c++) s += affinity[c] * mixture[c];
  return s;
}

/** The k best (score, then lower ad id) offered so far: a binary min-heap on the worst kept. */
class TopK {
  private readonly ids: number[] = [];
  private readonly scores: number[] = [];

  constructor(private readonly k: number) {}

  get full(): boolean {
    return this.ids.length >= this.k;
  }

  /** The worst score kept (only meaningful when full). */
  get floor(): number {
    return this.scores[0];
  }

  offer(adId: number, s: number): void {
    if (!(s > 0)) return;
    if (!this.full) {
      this.ids.push(adId);
      this.scores.push(s);
      this.up(this.ids.length - 1);
    } else if (this.worse(0, adId, s)) {
      this.ids[0] = adId;
      this.scores[0] = s;
      this.down(0);
    }
  }

  sorted(): { adIds: number[]; scores: number[] } {
    const order = this.ids.map((_, i) => i);
    order.sort((a, b) => this.scores[b] - this.scores[a] || this.ids[a] - this.ids[b]);
    return { adIds: order.map((i) => this.ids[i]), scores: order.map((i) => this.scores[i]) };
  }

  /** Is the entry at heap position i worse than (adId, s)? */
  private worse(i: number, adId: number, s: number): boolean {
    return this.scores[i] < s || (this.scores[i] === s && this.ids[i] > adId);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, this.ids[parent], this.scores[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.ids.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < n && this.worse(l, this.ids[worst], this.scores[worst])) worst = l;
      if (r < n && this.worse(r, this.ids[worst], this.scores[worst])) worst = r;
      if (worst === i) break;
      this.swap(i, worst);
      i = worst;
    }
  }

  private swap(a: number, b: number): void {
    [this.ids[a], this.ids[b]] = [this.ids[b], this.ids[a]];
    [this.scores[a], this.scores[b]] = [this.scores[b], this.scores[a]];
  }
}
