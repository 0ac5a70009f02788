import { CategoryMixtureDecoder, type MixtureAdInput } from './category-mixture.js';

/** What the mixtures of a catalog are computed from: each ad's id, declared category and embedding. */
export interface MixtureCatalogAd extends MixtureAdInput {
  readonly id: number;
}

const memo = new WeakMap<readonly MixtureCatalogAd[], ReadonlyMap<number, Float32Array>>();

/**
 * The decoded category mixture (CategoryMixtureDecoder) of every ad of a catalog snapshot, by ad id.
 * An ad's mixture depends on the whole catalog (its category centroids), so it is decoded once per
 * snapshot, from the snapshot's own ads, the same way in every process: memoized on the identity of
 * the ads array (a snapshot never mutates it; a reload brings a new one). Decoding takes ~40 ms for
 * 10,000 ads: a cost of the first call for a snapshot, never of a request after it.
 */
export function categoryMixturesOf(ads: readonly MixtureCatalogAd[]): ReadonlyMap<number, Float32Array> {
  const hit = memo.get(ads);
  if (hit) return hit;
  const decoder = CategoryMixtureDecoder.fromAds(ads);
  const mixtures = new Map<number, Float32Array>();
  for (const ad of ads) mixtures.set(ad.id, decoder.decode(ad));
  memo.set(ads, mixtures);
  return mixtures;
}
