import { CategoryMixtureDecoder, EMBEDDING_DIM, TOPIC_COUNT, interestMatch } from '@adfunnel/features';
import { type MarketplaceSpec, Rng, type SimAd, type SimUser, adAt, userAt } from '@adfunnel/simulator';
import { foldEngagement, userContextOf } from '@adfunnel/user-activity';
import { positiveK } from './metrics.js';

/**
 * How well each way of scoring an ad against a user's category affinity ranks the ads the user truly
 * likes, on a simulated marketplace. The simulator's ground truth is read here only as the oracle: the
 * true affinity of user u for ad a, Σ_k interests_u[k] · topics_a[k], that the estimates are ranked
 * against, and the true interests the simulated organic engagements are drawn from. The estimators read
 * only what the funnel sees: the ad's declared category and visual embedding, and the user's affinity.
 */

/** The estimators, each a score of one ad for one user's affinity over TOPICS. */
export const ESTIMATORS = ['declared', 'centroid', 'mixture'] as const;
export type Estimator = (typeof ESTIMATORS)[number];

export const ESTIMATOR_DESCRIPTIONS: Record<Estimator, string> = {
  declared: "affinity for the ad's declared category",
  centroid: 'cosine of the embedding to the affinity-weighted category centroid',
  mixture: 'affinity over the category mixture decoded from the embedding (CategoryMixtureDecoder)',
};

/** Where the user's affinity comes from. */
export const SETTINGS = ['true', 'inferred'] as const;
export type AffinitySetting = (typeof SETTINGS)[number];

/**
 * Share of a simulated organic engagement drawn from the user's true interests; the rest are of a
 * uniform category. The simulator's traffic driver draws them so (ORGANIC_INTEREST_SHARE in
 * tools/sim/src/traffic-driver.ts, an app this tool does not import; the spec checks the two agree).
 */
export const ORGANIC_INTEREST_SHARE = 0.8;

/** The clock the engagements are folded at: a minute apart, the last one a minute before it. */
const NOW = Date.UTC(2026, 0, 2);

export interface MixtureEvalOptions {
  readonly spec: MarketplaceSpec;
  /** Users 0 .. users-1 of the spec. */
  readonly users: number;
  readonly ks: readonly number[];
  /** Organic engagements drawn per user for the inferred affinity. */
  readonly engagements: number;
  /** Seed of the engagement draws. */
  readonly seed: number;
}

export interface MixtureEvalRow {
  readonly estimator: Estimator;
  readonly setting: AffinitySetting;
  /** Mean over users of the Pearson correlation of the estimate with the true affinity over all ads. */
  readonly pearson: number;
  /** Mean over users of |top K by estimate ∩ top K by true affinity| / K, per K. */
  readonly recall: Record<number, number>;
}

export interface MixtureEvalReport {
  readonly ads: number;
  readonly users: number;
  readonly engagements: number;
  readonly seed: number;
  readonly ks: readonly number[];
  readonly rows: MixtureEvalRow[];
  readonly elapsedMs: number;
}

/** Pearson correlation of two equally long series; 0 when either is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (y.length !== n)
    throw new RangeError(`pearson needs two series of one length, got ${n} and ${y.length}`);
  if (n === 0) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/**
 * Indices of the k highest scores, best first. Equal scores go by `tieRank` (lower first), else by
 * index. The declared category's affinity ties every ad of a category, and the catalog's order is not
 * neutral (an advertiser's ads are adjacent and alike), so evaluateMixture breaks ties by a seeded
 * permutation.
 */
export function topK(scores: ArrayLike<number>, k: number, tieRank?: ArrayLike<number>): Int32Array {
  positiveK(k);
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  if (tieRank === undefined) order.sort((a, b) => scores[b] - scores[a] || a - b);
  else order.sort((a, b) => scores[b] - scores[a] || tieRank[a] - tieRank[b]);
  return order.subarray(0, Math.min(k, order.length));
}

/** A seeded permutation of 0 .. n-1: rank i of item i (Fisher-Yates). */
export function seededRanks(n: number, seed: number): Int32Array {
  const rng = Rng.derive(seed, 'tie-rank');
  const ranks = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [ranks[i], ranks[j]] = [ranks[j], ranks[i]];
  }
  return ranks;
}

/** |top K of `estimate` ∩ top K of `truth`| / K, both over the same items; K at most their count. */
export function recallAtK(estimate: ArrayLike<number>, truth: ArrayLike<number>, k: number): number {
  if (estimate.length !== truth.length) {
    throw new RangeError(`recall needs two series of one length, got ${estimate.length} and ${truth.length}`);
  }
  positiveK(k);
  if (k > truth.length) throw new RangeError(`K ${k} is more than the ${truth.length} items`);
  const relevant = new Set(topK(truth, k));
  let hits = 0;
  for (const i of topK(estimate, k)) if (relevant.has(i)) hits++;
  return hits / k;
}

/** The user's true affinity for the ad (the oracle): Σ_k interests[k] · topics[k]. */
export function trueAffinity(user: Pick<SimUser, 'interests'>, ad: Pick<SimAd, 'topics'>): number {
  let s = 0;
  for (let k = 0; k < TOPIC_COUNT; k++) s += user.interests[k] * ad.topics[k];
  return s;
}

/**
 * The affinity serving reads for a user who engaged with `engagements` organic items (and nothing
 * else): each item's category drawn from the true interests (ORGANIC_INTEREST_SHARE) or uniform, as the
 * simulator's traffic driver draws them, folded by foldEngagement a minute apart and read by
 * userContextOf a minute after the last, as the gateway builds UserContext.interests.
 */
export function inferredAffinity(
  user: SimUser,
  userIndex: number,
  engagements: number,
  seed: number,
): number[] {
  const rng = Rng.derive(seed, 'organic', userIndex);
  let activity = null;
  for (let i = 0; i < engagements; i++) {
    const topic = rng.bernoulli(ORGANIC_INTEREST_SHARE)
      ? rng.weightedIndex(user.interests)
      : rng.int(TOPIC_COUNT);
    activity = foldEngagement(activity, topic, NOW - (engagements - i) * 60_000);
  }
  return userContextOf({ userId: user.id, country: user.country, device: user.device }, activity, NOW)
    .interests;
}

/** What the estimators read of the catalog: per ad its declared category, unit embedding and mixture. */
export interface ObservableCatalog {
  readonly categories: Int32Array;
  /** Unit embeddings, EMBEDDING_DIM per ad, row-major. */
  readonly embeddings: Float32Array;
  /** Decoded mixtures, TOPIC_COUNT per ad, row-major. */
  readonly mixtures: Float32Array;
  /** Unit category centroids, TOPIC_COUNT x EMBEDDING_DIM (zeros for a category without ads). */
  readonly centroids: Float32Array;
}

export function observableCatalog(
  ads: readonly Pick<SimAd, 'categoryIndex' | 'embedding'>[],
): ObservableCatalog {
  const decoder = CategoryMixtureDecoder.fromAds(ads);
  const n = ads.length;
  const categories = new Int32Array(n);
  const embeddings = new Float32Array(n * EMBEDDING_DIM);
  const mixtures = new Float32Array(n * TOPIC_COUNT);
  ads.forEach((ad, i) => {
    categories[i] = ad.categoryIndex;
    let norm = 0;
    for (let d = 0; d < EMBEDDING_DIM; d++) norm += ad.embedding[d] * ad.embedding[d];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < EMBEDDING_DIM; d++) embeddings[i * EMBEDDING_DIM + d] = ad.embedding[d] * inv;
    mixtures.set(decoder.decode(ad), i * TOPIC_COUNT);
  });
  const centroids = new Float32Array(TOPIC_COUNT * EMBEDDING_DIM);
  for (let k = 0; k < TOPIC_COUNT; k++) {
    const c = decoder.centroid(k);
    if (c) centroids.set(c, k * EMBEDDING_DIM);
  }
  return { categories, embeddings, mixtures, centroids };
}

/** Every ad's score under `estimator` for one user's affinity. */
export function estimate(
  catalog: ObservableCatalog,
  estimator: Estimator,
  affinity: ArrayLike<number>,
): Float64Array {
  const n = catalog.categories.length;
  const out = new Float64Array(n);
  switch (estimator) {
    case 'declared':
      for (let i = 0; i < n; i++) out[i] = affinity[catalog.categories[i]] ?? 0;
      return out;
    case 'mixture':
      for (let i = 0; i < n; i++) {
        out[i] = interestMatch(affinity, catalog.mixtures.subarray(i * TOPIC_COUNT, (i + 1) * TOPIC_COUNT));
      }
      return out;
    case 'centroid': {
      const u = new Float64Array(EMBEDDING_DIM);
      for (let k = 0; k < TOPIC_COUNT; k++) {
        for (let d = 0; d < EMBEDDING_DIM; d++)
          u[d] += affinity[k] * catalog.centroids[k * EMBEDDING_DIM + d];
      }
      let norm = 0;
      for (let d = 0; d < EMBEDDING_DIM; d++) norm += u[d] * u[d];
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let d = 0; d < EMBEDDING_DIM; d++) s += u[d] * catalog.embeddings[i * EMBEDDING_DIM + d];
        out[i] = s * inv;
      }
      return out;
    }
  }
}

export function evaluateMixture(options: MixtureEvalOptions): MixtureEvalReport {
  const started = performance.now();
  const { spec, users, ks, engagements, seed } = options;
  if (!Number.isInteger(users) || users < 1 || users > spec.users) {
    throw new RangeError(`users must be an integer from 1 to ${spec.users}, got ${users}`);
  }
  if (!Number.isInteger(engagements) || engagements < 0) {
    throw new RangeError(`engagements must be a non-negative integer, got ${engagements}`);
  }
  for (const k of ks) {
    positiveK(k);
    if (k > spec.ads) throw new RangeError(`K ${k} is more than the ${spec.ads} ads`);
  }
  const ads = Array.from({ length: spec.ads }, (_, i) => adAt(spec, i));
  const catalog = observableCatalog(ads);
  const sums = new Map<string, { pearson: number; recall: number[] }>();
  for (const s of SETTINGS)
    for (const e of ESTIMATORS) sums.set(`${e}/${s}`, { pearson: 0, recall: ks.map(() => 0) });
  const tieRank = seededRanks(ads.length, seed);
  const truth = new Float64Array(ads.length);
  for (let u = 0; u < users; u++) {
    const user = userAt(spec, u);
    for (let i = 0; i < ads.length; i++) truth[i] = trueAffinity(user, ads[i]);
    const relevant = ks.map((k) => new Set(topK(truth, k)));
    const affinities: Record<AffinitySetting, ArrayLike<number>> = {
      true: user.interests,
      inferred: inferredAffinity(user, u, engagements, seed),
    };
    for (const s of SETTINGS) {
      for (const e of ESTIMATORS) {
        const scores = estimate(catalog, e, affinities[s]);
        const sum = sums.get(`${e}/${s}`)!;
        sum.pearson += pearson(scores, truth);
        const top = topK(scores, Math.max(...ks), tieRank);
        ks.forEach((k, j) => {
          let hits = 0;
          for (let r = 0; r < k; r++) if (relevant[j].has(top[r])) hits++;
          sum.recall[j] += hits / k;
        });
      }
    }
  }
  const rows: MixtureEvalRow[] = [];
  for (const s of SETTINGS) {
    for (const e of ESTIMATORS) {
      const sum = sums.get(`${e}/${s}`)!;
      rows.push({
        estimator: e,
        setting: s,
        pearson: round3(sum.pearson / users),
        recall: Object.fromEntries(ks.map((k, j) => [k, round3(sum.recall[j] / users)])),
      });
    }
  }
  return {
    ads: spec.ads,
    users,
    engagements,
    seed,
    ks,
    rows,
    elapsedMs: Math.round(performance.now() - started),
  };
}

export function formatMixtureReport(report: MixtureEvalReport): string {
  const settingLabel: Record<AffinitySetting, string> = {
    true: 'true interests',
    inferred: `${report.engagements} organic engagements`,
  };
  const head = ['estimator', 'affinity', 'Pearson', ...report.ks.map((k) => `Recall@${k}`)];
  const body = report.rows.map((r) => [
    r.estimator,
    settingLabel[r.setting],
    r.pearson.toFixed(3),
    ...report.ks.map((k) => r.recall[k].toFixed(3)),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [
    `${report.ads} ads, users 0-${report.users - 1}, engagement seed ${report.seed} (${report.elapsedMs} ms)`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    ...ESTIMATORS.map((e) => `${e}: ${ESTIMATOR_DESCRIPTIONS[e]}`),
  ].join('\n');
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
