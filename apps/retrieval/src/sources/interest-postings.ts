import { TopK } from '@adfunnel/ad-index';
import { TOPIC_COUNT, interestMatch } from '@adfunnel/features';

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
          if (admits(adId)) {
            const s = interestMatch(lifted, this.mixtures.get(adId)!);
            if (s > 0) best.push(s, adId);
          }
        }
        if (at[i] < list.adIds.length) {
          threshold += lifted[categories[i]] * list.weights[at[i]];
          open = true;
        }
      }
      if (!open || best.floor >= threshold) break;
    }
    const found = best.drain();
    return { adIds: found.ids, scores: found.scores.map((s) => s + floor), read };
  }
}
