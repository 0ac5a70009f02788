import type { IndexableAd } from '@adfunnel/ad-index';
import { Rng } from '@adfunnel/simulator';

/**
 * One tier of a nested targeting layout: the ads that exactly the requests from `country` and every
 * broader tier's country may see. A request from `country` sees its own tier and all narrower ones.
 */
export interface TargetingTier {
  /** The country a request comes from to see `eligible` ads. */
  readonly country: string;
  /** Share of the catalog the request may see, as asked for. */
  readonly share: number;
  /** Ads a request from `country` may see: round(ads x share). */
  readonly eligible: number;
  /** Ads in this tier alone: its eligible count less the next narrower tier's. */
  readonly ads: number;
  /** Countries the tier's ads target; the narrowest tier targets none, i.e. everywhere. */
  readonly targetCountries: readonly string[];
}

/**
 * Nested tiers that give a request from the i-th country exactly round(ads x shares[i]) eligible
 * ads: the narrowest share is untargeted (shown everywhere, so every country sees it), each broader
 * tier adds ads targeting its country and every broader one. Ads beyond the broadest share target
 * `elsewhere`, a country no request names. Shares must be strictly decreasing within (0, 1].
 */
export function targetingTiers(
  ads: number,
  shares: readonly number[],
  countries: readonly string[],
): TargetingTier[] {
  if (!Number.isInteger(ads) || ads < 1) throw new RangeError(`ads must be a positive integer, got ${ads}`);
  if (shares.length === 0 || shares.length > countries.length) {
    throw new RangeError(`${shares.length} shares need between 1 and ${countries.length} countries`);
  }
  shares.forEach((share, i) => {
    if (!(share > 0 && share <= 1)) throw new RangeError(`share ${share} must be in (0, 1]`);
    if (i > 0 && share >= shares[i - 1]) {
      throw new RangeError(`shares must be strictly decreasing, got ${shares[i - 1]} then ${share}`);
    }
  });
  const eligible = shares.map((share) => Math.round(ads * share));
  eligible.forEach((count, i) => {
    if (count === 0 || (i > 0 && count === eligible[i - 1])) {
      throw new RangeError(`${ads} ads are too few to give share ${shares[i]} ads of its own`);
    }
  });
  const last = shares.length - 1;
  return shares.map((share, i) => ({
    country: countries[i],
    share,
    eligible: eligible[i],
    ads: i === last ? eligible[i] : eligible[i] - eligible[i + 1],
    targetCountries: i === last ? [] : countries.slice(0, i + 1),
  }));
}

export interface SyntheticCatalogSpec {
  readonly ads: number;
  readonly dim: number;
  readonly seed: number;
  readonly tiers: readonly TargetingTier[];
  /** Topics, each with `clustersPerTopic` clusters; ads and queries sit near a cluster's centre. */
  readonly topics: number;
  readonly clustersPerTopic: number;
  /** Campaigns per tier; ads are dealt to them in turn. */
  readonly campaignsPerTier?: number;
  readonly elsewhere?: string;
}

export interface SyntheticCatalog {
  readonly ads: IndexableAd[];
  /** All ads' unit vectors back to back, in catalog order (ad id i + 1 at offset i x dim). */
  readonly vectors: Float32Array;
  /** A query like a user near the interests of a random cluster: same spread as the ads. */
  query(rng: Rng): Float32Array;
}

/** Spread of a cluster centre around its topic and of an ad around its cluster, as a vector norm. */
const CLUSTER_SPREAD = 0.8;
const AD_SPREAD = 0.6;

/**
 * A catalog shaped so that ANN is neither trivial nor hopeless: unit vectors in a two-level mixture
 * (topics, clusters of each topic, ads around a cluster), so the nearest 500 of a query span its own
 * cluster and its topic's neighbours as learned embeddings do, not uniform noise. Which ad lands in
 * which targeting tier is a seeded shuffle independent of the vectors, so every tier spans all topics.
 */
export function syntheticCatalog(spec: SyntheticCatalogSpec): SyntheticCatalog {
  const { ads: n, dim, seed, tiers } = spec;
  const inTiers = tiers.reduce((sum, tier) => sum + tier.ads, 0);
  if (inTiers > n) throw new RangeError(`the tiers hold ${inTiers} ads, more than the ${n} asked for`);
  const rng = new Rng(seed);
  const clusterCount = spec.topics * spec.clustersPerTopic;
  const centres = new Float32Array(clusterCount * dim);
  const topic = new Float32Array(dim);
  for (let t = 0; t < spec.topics; t++) {
    randomUnitInto(rng, topic, 0, dim);
    for (let c = 0; c < spec.clustersPerTopic; c++) {
      noisyUnitInto(rng, topic, 0, CLUSTER_SPREAD, centres, (t * spec.clustersPerTopic + c) * dim, dim);
    }
  }

  const vectors = new Float32Array(n * dim);
  for (let i = 0; i < n; i++)
    noisyUnitInto(rng, centres, rng.int(clusterCount) * dim, AD_SPREAD, vectors, i * dim, dim);

  // Tier of each ad by a seeded shuffle: tier 0 first, the rest of the catalog after the last tier.
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  const campaignsPerTier = spec.campaignsPerTier ?? 100;
  const tierOf = new Int32Array(n).fill(tiers.length);
  let at = 0;
  tiers.forEach((tier, t) => {
    for (let i = 0; i < tier.ads; i++) tierOf[order[at++]] = t;
  });
  const campaigns = Array.from({ length: (tiers.length + 1) * campaignsPerTier }, (_, c) => {
    const t = Math.floor(c / campaignsPerTier);
    return {
      id: c + 1,
      status: 'active',
      bidType: 'CPM',
      bid: 1 + (c % 7),
      targetCountries: t < tiers.length ? tiers[t].targetCountries : [spec.elsewhere ?? 'ZZ'],
      targetDevices: [] as string[],
    };
  });
  const ads = Array.from({ length: n }, (_, i): IndexableAd => ({
    id: i + 1,
    status: 'active',
    embedding: vectors.subarray(i * dim, (i + 1) * dim),
    campaign: campaigns[tierOf[i] * campaignsPerTier + (i % campaignsPerTier)],
  }));
  return {
    ads,
    vectors,
    query(queryRng) {
      const q = new Float32Array(dim);
      noisyUnitInto(queryRng, centres, queryRng.int(clusterCount) * dim, AD_SPREAD, q, 0, dim);
      return q;
    },
  };
}

function randomUnitInto(rng: Rng, into: Float32Array, offset: number, dim: number): void {
  let norm = 0;
  for (let d = 0; d < dim; d++) {
    const v = rng.normal();
    into[offset + d] = v;
    norm += v * v;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < dim; d++) into[offset + d] *= inv;
}

/** normalise(centre + noise of expected norm `spread`) into `into` at `offset`. */
function noisyUnitInto(
  rng: Rng,
  centres: Float32Array,
  centreOffset: number,
  spread: number,
  into: Float32Array,
  offset: number,
  dim: number,
): void {
  const sigma = spread / Math.sqrt(dim);
  let norm = 0;
  for (let d = 0; d < dim; d++) {
    const v = centres[centreOffset + d] + sigma * rng.normal();
    into[offset + d] = v;
    norm += v * v;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < dim; d++) into[offset + d] *= inv;
}
