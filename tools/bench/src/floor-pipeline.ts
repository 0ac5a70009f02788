import { AdIndex, type RetrievalResult, TopK } from '@adfunnel/ad-index';
import type { CatalogAd } from '@adfunnel/catalog';
import type { AdRequestInput, UserContext } from '@adfunnel/contracts';
import {
  FEATURE_SPEC,
  TOPIC_COUNT,
  buildFeatureMatrix,
  categoryMixturesOf,
  featureRequestOf,
  wordsAndBigrams,
} from '@adfunnel/features';
import type { OnnxWorkerPool } from '@adfunnel/models';
import {
  type AuctionCandidate,
  DEFAULT_EXAMINATION,
  DEFAULT_UTILITY_SCALES,
  DEFAULT_UTILITY_WEIGHTS,
  NO_QUALITY_FLOORS,
  runAuction,
} from '@adfunnel/utility';

/**
 * The retrieval service's defaults (apps/retrieval/src/config.ts: RETRIEVAL_EF_SEARCH,
 * RETRIEVAL_EXACT_THRESHOLD, RETRIEVAL_QUERY_SEEDS), the gateway's RETRIEVAL_CANDIDATES and the
 * auction's defaults (gsp, a 0.5 USD CPM reserve, ad load 10, one ad per advertiser): the floor does
 * the work the funnel does as configured out of the box.
 */
export const FLOOR_DEFAULTS = {
  efSearch: 128,
  exactThreshold: 4000,
  candidates: 200,
  querySeeds: 20,
  reservePerImpression: 0.5 / 1000,
  adLoad: 10,
  diversity: { maxPerAdvertiser: 1, maxPerCategory: 10 },
} as const;

export interface FloorOptions {
  efSearch?: number;
  exactThreshold?: number;
}

/** The ads with one term, and the term's idf. */
interface Postings {
  readonly ids: Int32Array;
  readonly idf: number;
}

/** What one request came to in the floor: its candidates and its winners. */
export interface FloorAnswer {
  candidates: number;
  winners: number;
}

/**
 * The retrieval, ranking and auction work of the funnel for one request, in one process and without
 * the bus: what a request costs at the least. Retrieval runs the index searches the default quotas
 * make per surface over the AdIndex of the same catalog (home_feed: the user's ANN, or the popular
 * list without a signal, and the popular list; search: the ads naming the query's words and an ANN
 * search around the best of them; related_items: an ANN search around the item shown and the user's
 * ANN), merged into 200 candidates; ranking builds libs/features' rows and scores them with the
 * served ONNX model (one worker thread of libs/models' pool); the auction is libs/utility's GSP.
 * Left out: Redis (budget reservations, frequency caps, user activity reads, served records),
 * trending and retargeting candidates, calibration, shadow scoring, pacing, logging and HTTP.
 */
export class FloorPipeline {
  private readonly eligibleSets = new Map<string, ReadonlySet<number>>();

  private constructor(
    private readonly index: AdIndex,
    private readonly catalog: { ads: readonly CatalogAd[]; byId: ReadonlyMap<number, CatalogAd> },
    private readonly unitEmbeddings: ReadonlyMap<number, Float32Array>,
    private readonly centroids: readonly (Float32Array | null)[],
    private readonly postings: ReadonlyMap<string, Postings>,
    private readonly model: OnnxWorkerPool,
  ) {}

  /**
   * Builds the index, the embeddings, the category centroids, the category mixtures and the word
   * postings of `ads` (not timed).
   */
  static build(ads: readonly CatalogAd[], model: OnnxWorkerPool, options: FloorOptions = {}): FloorPipeline {
    const index = AdIndex.build(ads, {
      catalogVersion: 'bench-floor',
      efSearch: options.efSearch ?? FLOOR_DEFAULTS.efSearch,
      exactThreshold: options.exactThreshold ?? FLOOR_DEFAULTS.exactThreshold,
    });
    const byId = new Map(ads.map((ad) => [ad.id, ad]));
    const unitEmbeddings = new Map(
      ads.map((ad) => {
        const e = Float32Array.from(ad.embedding);
        return [ad.id, unit(e) ?? e];
      }),
    );
    const sums: (Float32Array | null)[] = Array.from({ length: TOPIC_COUNT }, () => null);
    const docs = new Map<string, number[]>();
    for (const ad of ads) {
      if (ad.categoryIndex >= 0 && ad.categoryIndex < TOPIC_COUNT) {
        const sum = (sums[ad.categoryIndex] ??= new Float32Array(ad.embedding.length));
        for (let d = 0; d < sum.length; d++) sum[d] += ad.embedding[d];
      }
      const terms = new Set([...wordsAndBigrams(ad.title), ...wordsAndBigrams(ad.text)]);
      for (const term of terms) {
        const list = docs.get(term);
        if (list === undefined) docs.set(term, [ad.id]);
        else list.push(ad.id);
      }
    }
    const postings = new Map<string, Postings>();
    for (const [term, ids] of docs) {
      const idf = Math.log(1 + (ads.length - ids.length + 0.5) / (ids.length + 0.5));
      postings.set(term, { ids: Int32Array.from(ids), idf });
    }
    const centroids = sums.map((sum) => (sum === null ? null : unit(sum)));
    categoryMixturesOf(ads); // decoded once per catalog, as ranking does on a catalog change
    return new FloorPipeline(index, { ads, byId }, unitEmbeddings, centroids, postings, model);
  }

  get indexSize(): number {
    return this.index.size;
  }

  async serve(request: AdRequestInput, user: UserContext): Promise<FloorAnswer> {
    const adIds = this.retrieve(request, user);
    if (adIds.length === 0) return { candidates: 0, winners: 0 };
    const ads = adIds.map((id) => this.catalog.byId.get(id)!);
    const features = buildFeatureMatrix(
      featureRequestOf(
        { interests: user.interests, device: user.device, known: user.known, activity: user.activity },
        request.surface,
        { query: request.query, contextAdId: request.contextAdId },
        this.catalog,
      ),
      ads,
    );
    const scores = await this.model.run(features, ads.length, FEATURE_SPEC.dim);
    const candidates: AuctionCandidate[] = [];
    ads.forEach((ad, i) => {
      if (ad.status !== 'active' || ad.campaign.status !== 'active') return;
      const { campaign } = ad;
      candidates.push({
        adId: ad.id,
        campaignId: campaign.id,
        advertiserId: campaign.advertiserId,
        bidType: campaign.bidType,
        bid: campaign.bid,
        category: ad.category,
        pCtr: scores.pCtr[i],
        pCvr: scores.pCvr[i],
        pHide: scores.pHide?.[i],
        ...(campaign.reserveCpm == null ? {} : { reservePerImpression: campaign.reserveCpm / 1000 }),
      });
    });
    const outcome = runAuction('gsp', {
      candidates,
      slots: Math.min(request.slots ?? 3, FLOOR_DEFAULTS.adLoad),
      reservePerImpression: FLOOR_DEFAULTS.reservePerImpression,
      examination: DEFAULT_EXAMINATION,
      diversity: FLOOR_DEFAULTS.diversity,
      floors: NO_QUALITY_FLOORS,
      weights: DEFAULT_UTILITY_WEIGHTS,
      scales: DEFAULT_UTILITY_SCALES,
    });
    return { candidates: adIds.length, winners: outcome.winners.length };
  }

  /** The surface's searches (see the class comment), merged in order without duplicates. */
  private retrieve(request: AdRequestInput, user: UserContext): number[] {
    const k: number = FLOOR_DEFAULTS.candidates;
    const lists: RetrievalResult[] = [];
    const near = (vector: ArrayLike<number>, n = k) =>
      this.index.search({ embedding: vector, country: user.country, device: user.device, k: n });
    const popular = () => this.index.popular({ country: user.country, device: user.device, k });
    const personal = () => {
      const vector = this.userVector(user);
      return vector === null ? popular() : near(vector);
    };
    switch (request.surface) {
      case 'home_feed':
        lists.push(personal(), popular());
        break;
      case 'search': {
        const hits = this.lexical(request.query ?? '', user);
        lists.push({ adIds: hits, scores: [], sources: [], eligible: hits.length });
        const seeds = hits.slice(0, FLOOR_DEFAULTS.querySeeds).map((id) => this.unitEmbeddings.get(id)!);
        const centroid = mean(seeds);
        if (centroid !== null) lists.push(near(centroid));
        break;
      }
      case 'related_items': {
        const context =
          request.contextAdId === undefined ? undefined : this.unitEmbeddings.get(request.contextAdId);
        if (context !== undefined) {
          const found = near(context, k + 1);
          lists.push({ ...found, adIds: found.adIds.filter((id) => id !== request.contextAdId) });
        }
        lists.push(personal());
        break;
      }
    }
    return mergeInOrder(
      lists.map((l) => l.adIds),
      k,
    );
  }

  /** The user's recent ads' recency-weighted mean embedding, else their affinity over category centroids. */
  private userVector(user: UserContext): Float32Array | null {
    const recent = user.activity?.recentAdIds ?? [];
    let weight = 1;
    let sum: Float32Array | null = null;
    for (const id of recent) {
      const e = this.unitEmbeddings.get(id);
      if (e !== undefined) {
        sum ??= new Float32Array(e.length);
        for (let d = 0; d < e.length; d++) sum[d] += weight * e[d];
      }
      weight *= 0.8;
    }
    if (sum !== null) return unit(sum);
    for (let c = 0; c < user.interests.length; c++) {
      const centroid = user.interests[c] > 0 ? this.centroids[c] : null;
      if (centroid === null || centroid === undefined) continue;
      sum ??= new Float32Array(centroid.length);
      for (let d = 0; d < sum.length; d++) sum[d] += user.interests[c] * centroid[d];
    }
    return sum === null ? null : unit(sum);
  }

  /**
   * The eligible ads with the query's words and bigrams, by the sum of their idf (BM25 without the
   * term-frequency and length terms), best first: the postings walk of the lexical source.
   */
  private lexical(query: string, user: UserContext): number[] {
    const eligible = this.eligible(user.country, user.device);
    const scores = new Map<number, number>();
    for (const term of new Set(wordsAndBigrams(query))) {
      const p = this.postings.get(term);
      if (p === undefined) continue;
      for (let i = 0; i < p.ids.length; i++) scores.set(p.ids[i], (scores.get(p.ids[i]) ?? 0) + p.idf);
    }
    const top = new TopK(FLOOR_DEFAULTS.candidates);
    for (const [id, score] of scores) if (eligible.has(id)) top.push(score, id);
    return top.drain().ids;
  }

  /** The ads a country and device may see, as the retrieval service caches them per pair. */
  private eligible(country: string, device: string): ReadonlySet<number> {
    const key = `${country}|${device}`;
    let set = this.eligibleSets.get(key);
    if (set === undefined) {
      set = new Set(this.index.popular({ country, device, k: Math.max(1, this.index.size) }).adIds);
      this.eligibleSets.set(key, set);
    }
    return set;
  }
}

/** The lists' ids in order, each once, at most `limit`. */
export function mergeInOrder(lists: readonly (readonly number[])[], limit: number): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (const list of lists) {
    for (const id of list) {
      if (out.length >= limit) return out;
      if (!seen.has(id)) {
        seen.add(id);
        out.push(id);
      }
    }
  }
  return out;
}

function mean(vectors: readonly Float32Array[]): Float32Array | null {
  if (vectors.length === 0) return null;
  const sum = new Float32Array(vectors[0].length);
  for (const v of vectors) for (let d = 0; d < sum.length; d++) sum[d] += v[d];
  return unit(sum);
}

function unit(v: Float32Array): Float32Array | null {
  let norm = 0;
  for (let d = 0; d < v.length; d++) norm += v[d] * v[d];
  if (!(norm > 0)) return null;
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < v.length; d++) v[d] *= inv;
  return v;
}
