import type { AdIndex } from '@adfunnel/ad-index';
import type { CatalogAd, CatalogCampaign } from '@adfunnel/catalog';
import { EMBEDDING_DIM, TOPIC_COUNT, categoryMixturesOf } from '@adfunnel/features';
import { BUILD_SLICE_MS, runInSlices, runToEnd, sliceClock } from './build-slices.js';
import { InterestPostings } from './interest-postings.js';
import { LexicalIndex, type LexicalIndexOptions } from './lexical-index.js';

/** What the candidate sources read of one catalog ad. */
export interface CandidateAd {
  readonly id: number;
  readonly campaignId: number;
  readonly advertiserId: number;
  /** Index of the ad's declared category in the TOPICS of libs/features (-1 when it has none there). */
  readonly categoryIndex: number;
  /** The catalog's (visual) embedding, scaled to unit length. */
  readonly embedding: Float32Array;
}

/**
 * The ads one request may see: the AdIndex's targeting (its popularity list for the request's country
 * and device, so the rules live in one place) less the campaigns the request excludes.
 */
export interface EligibleAds {
  readonly count: number;
  admits(adId: number): boolean;
  /** The ad's prior value per impression (USD at average rates), 0 when not eligible. */
  prior(adId: number): number;
}

/** The campaigns of one (country, device), by whether they can serve there: CandidateCatalog.campaignsFor. */
export interface TargetedCampaigns {
  readonly eligible: ReadonlySet<number>;
  /** Targeting matches, but the campaign is paused or ended, or none of its ads is active. */
  readonly inactive: readonly number[];
  /** Of inactive, the campaigns paused, and those ended (or archived). */
  readonly paused: readonly number[];
  readonly ended: readonly number[];
}

const NO_CAMPAIGNS: ReadonlySet<number> = new Set();
/** (country, device) pairs whose eligible sets are kept; countries no campaign targets share one set. */
const ELIGIBLE_CACHE_SIZE = 64;

/**
 * Everything the candidate sources search, built from one catalog snapshot next to its AdIndex and
 * swapped in with it: the index, a lexical index over ad titles and texts, each ad's unit embedding
 * (every catalog ad, so a paused ad still works as a related-items context or a recent engagement),
 * the ads of each advertiser, and each ad's category mixture decoded from its embedding with the lists
 * the `interest` source walks (InterestPostings). Immutable once built; retrieval builds each in
 * slices (buildInSlices).
 */
export class CandidateCatalog {
  private readonly eligibleSets = new Map<string, ReadonlyMap<number, number>>();
  /** Dropped with the eligible set they were made from. */
  private readonly targetedCampaigns = new WeakMap<ReadonlyMap<number, number>, TargetedCampaigns>();

  private constructor(
    readonly index: AdIndex,
    readonly lexical: LexicalIndex,
    private readonly ads: ReadonlyMap<number, CandidateAd>,
    private readonly byAdvertiser: ReadonlyMap<number, readonly number[]>,
    private readonly byCampaign: ReadonlyMap<number, readonly number[]>,
    private readonly centroids: readonly (Float32Array | null)[],
    private readonly inactiveCampaigns: readonly CatalogCampaign[],
    /** Null when the catalog's embeddings are not of EMBEDDING_DIM (the mixture decoder's basis). */
    readonly interests: InterestPostings | null,
  ) {}

  static build(
    index: AdIndex,
    ads: readonly CatalogAd[],
    lexicalOptions: LexicalIndexOptions = {},
  ): CandidateCatalog {
    return runToEnd(CandidateCatalog.buildSteps(index, ads, lexicalOptions, Infinity));
  }

  /**
   * `build`, yielding to the event loop every `sliceMs` (a whole build is about 100 ms at 10,000
   * ads): what retrieval does for each catalog change, before it swaps the result in with the index.
   */
  static buildInSlices(
    index: AdIndex,
    ads: readonly CatalogAd[],
    lexicalOptions: LexicalIndexOptions = {},
    sliceMs = BUILD_SLICE_MS,
  ): Promise<CandidateCatalog> {
    return runInSlices(CandidateCatalog.buildSteps(index, ads, lexicalOptions, sliceMs));
  }

  private static *buildSteps(
    index: AdIndex,
    ads: readonly CatalogAd[],
    lexicalOptions: LexicalIndexOptions,
    sliceMs: number,
  ): Generator<void, CandidateCatalog> {
    const due = sliceClock(sliceMs);
    const byId = new Map<number, CandidateAd>();
    const byAdvertiser = new Map<number, number[]>();
    const byCampaign = new Map<number, number[]>();
    const push = (map: Map<number, number[]>, key: number, adId: number) => {
      const list = map.get(key);
      if (list === undefined) map.set(key, [adId]);
      else list.push(adId);
    };
    const sums: (Float32Array | null)[] = Array.from({ length: TOPIC_COUNT }, () => null);
    const campaigns = new Map<number, { campaign: CatalogCampaign; servable: boolean }>();
    let n = 0;
    for (const ad of ads) {
      if ((++n & 127) === 0 && due()) yield;
      const entry = campaigns.get(ad.campaign.id);
      const servable = ad.status === 'active' && ad.campaign.status === 'active';
      if (entry === undefined) campaigns.set(ad.campaign.id, { campaign: ad.campaign, servable });
      else entry.servable ||= servable;
      const c = ad.categoryIndex;
      if (Number.isInteger(c) && c >= 0 && c < TOPIC_COUNT) {
        const sum = (sums[c] ??= new Float32Array(ad.embedding.length));
        for (let d = 0; d < sum.length; d++) sum[d] += ad.embedding[d];
      }
      byId.set(ad.id, {
        id: ad.id,
        campaignId: ad.campaign.id,
        advertiserId: ad.advertiserId,
        categoryIndex: Number.isInteger(c) && c >= 0 && c < TOPIC_COUNT ? c : -1,
        embedding: unit(ad.embedding),
      });
      push(byAdvertiser, ad.advertiserId, ad.id);
      push(byCampaign, ad.campaign.id, ad.id);
    }
    const lexical = yield* LexicalIndex.buildSteps(
      ads.map((ad) => ({ id: ad.id, fields: [ad.title, ad.text] })),
      lexicalOptions,
      sliceMs,
    );
    const centroids = sums.map((sum) => (sum === null ? null : unitOrNull(sum)));
    // The snapshot's mixtures as ranking and the served-record writer decode them (one decoding per
    // snapshot and process, shared when the stages are co-located).
    const interests = centroids.every((c) => c === null || c.length === EMBEDDING_DIM)
      ? InterestPostings.build(categoryMixturesOf(ads))
      : null;
    yield;
    const inactive = [...campaigns.values()].filter((c) => !c.servable).map((c) => c.campaign);
    return new CandidateCatalog(
      index,
      lexical,
      byId,
      byAdvertiser,
      byCampaign,
      centroids,
      inactive,
      interests,
    );
  }

  /**
   * The unit mean embedding of the catalog's ads of the category (what advertisers declared), null
   * for a category without ads: how the catalog itself places a category in the embedding space.
   */
  categoryCentroid(categoryIndex: number): Float32Array | null {
    return this.centroids[categoryIndex] ?? null;
  }

  get version(): string {
    return this.index.version;
  }

  ad(adId: number): CandidateAd | undefined {
    return this.ads.get(adId);
  }

  adsOfAdvertiser(advertiserId: number): readonly number[] {
    return this.byAdvertiser.get(advertiserId) ?? [];
  }

  eligible(
    country: string,
    device: string,
    excludeCampaigns: ReadonlySet<number> = NO_CAMPAIGNS,
  ): EligibleAds {
    const priors = this.eligibleSet(country, device);
    let excludedCount = 0;
    for (const campaignId of excludeCampaigns) {
      for (const adId of this.byCampaign.get(campaignId) ?? []) if (priors.has(adId)) excludedCount++;
    }
    const admits = (adId: number): boolean => {
      if (!priors.has(adId)) return false;
      return excludeCampaigns.size === 0 || !excludeCampaigns.has(this.ads.get(adId)!.campaignId);
    };
    return {
      count: priors.size - excludedCount,
      admits,
      prior: (adId) => (admits(adId) ? priors.get(adId)! : 0),
    };
  }

  /**
   * The campaigns a request from this country and device could be served, before its exclusions
   * (an active ad of an active campaign the index admits), and the campaigns whose targeting matches
   * it but which are paused, ended or without an active ad: made once per eligible set and kept
   * with it, so counting a request's campaigns for the delivery diagnostics is one lookup.
   */
  campaignsFor(country: string, device: string): TargetedCampaigns {
    const priors = this.eligibleSet(country, device);
    let campaigns = this.targetedCampaigns.get(priors);
    if (campaigns === undefined) {
      const eligible = new Set<number>();
      for (const adId of priors.keys()) eligible.add(this.ads.get(adId)!.campaignId);
      const targeted = this.inactiveCampaigns.filter(
        (campaign) => targets(campaign, country, device) && !eligible.has(campaign.id),
      );
      const ids = (status?: string) =>
        targeted.filter((c) => status === undefined || c.status === status).map((c) => c.id);
      campaigns = { eligible, inactive: ids(), paused: ids('paused'), ended: ids('ended') };
      this.targetedCampaigns.set(priors, campaigns);
    }
    return campaigns;
  }

  private eligibleSet(country: string, device: string): ReadonlyMap<number, number> {
    const key = `${country}|${device}`;
    const hit = this.eligibleSets.get(key);
    if (hit !== undefined) {
      this.eligibleSets.delete(key);
      this.eligibleSets.set(key, hit);
      return hit;
    }
    const priors = new Map<number, number>();
    if (this.index.size > 0) {
      const all = this.index.popular({ country, device, k: this.index.size });
      all.adIds.forEach((adId, i) => priors.set(adId, all.scores[i]));
    }
    this.eligibleSets.set(key, priors);
    if (this.eligibleSets.size > ELIGIBLE_CACHE_SIZE) {
      this.eligibleSets.delete(this.eligibleSets.keys().next().value!);
    }
    return priors;
  }
}

/** The AdIndex's targeting rule: an empty list admits every country (device). */
function targets(campaign: CatalogCampaign, country: string, device: string): boolean {
  return (
    (campaign.targetCountries.length === 0 || campaign.targetCountries.includes(country)) &&
    (campaign.targetDevices.length === 0 || campaign.targetDevices.includes(device))
  );
}

function unit(embedding: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(embedding);
  let norm = 0;
  for (let d = 0; d < out.length; d++) norm += out[d] * out[d];
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < out.length; d++) out[d] *= inv;
  }
  return out;
}

function unitOrNull(v: Float32Array): Float32Array | null {
  let norm = 0;
  for (let d = 0; d < v.length; d++) norm += v[d] * v[d];
  return norm > 0 ? unit(v) : null;
}
