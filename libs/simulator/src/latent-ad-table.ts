import { TOPIC_COUNT } from '@adfunnel/features';
import {
  type ServeContext,
  type UserLatent,
  clickProbabilityExamined,
  conversionProbability,
} from './ground-truth.js';
import { type MarketplaceSpec, ads, campaignIndexOfAd } from './marketplace.js';

/**
 * The ground-truth side of every ad, in columns: topics (float32, as generated), click and
 * conversion quality. 80 bytes per ad (a million ads: 80 MB) instead of a SimAd object each, for
 * code that scores a user against the whole catalog (the oracle). Probabilities equal groundTruth's
 * for the same ad to the last bit.
 */
export class LatentAdTable {
  private constructor(
    readonly spec: MarketplaceSpec,
    private readonly topics: Float32Array,
    private readonly quality: Float64Array,
    private readonly conversionQuality: Float64Array,
  ) {}

  static build(spec: MarketplaceSpec): LatentAdTable {
    const topics = new Float32Array(spec.ads * TOPIC_COUNT);
    const quality = new Float64Array(spec.ads);
    const conversionQuality = new Float64Array(spec.ads);
    let i = 0;
    for (const ad of ads(spec)) {
      topics.set(ad.topics, i * TOPIC_COUNT);
      quality[i] = ad.quality;
      conversionQuality[i] = ad.conversionQuality;
      i++;
    }
    return new LatentAdTable(spec, topics, quality, conversionQuality);
  }

  get size(): number {
    return this.quality.length;
  }

  /** Ad ids are index + 1. */
  indexOf(adId: number): number {
    const i = adId - 1;
    if (!Number.isInteger(adId) || i < 0 || i >= this.size) {
      throw new RangeError(`ad id ${adId} is not in the simulated marketplace (1..${this.size})`);
    }
    return i;
  }

  campaignIndexOf(adIndex: number): number {
    return campaignIndexOfAd(this.spec, adIndex);
  }

  /** The topic the ad is mostly about (the first of equal weights): its category in the catalog. */
  dominantTopic(adIndex: number): number {
    const offset = adIndex * TOPIC_COUNT;
    let best = 0;
    for (let k = 1; k < TOPIC_COUNT; k++) if (this.topics[offset + k] > this.topics[offset + best]) best = k;
    return best;
  }

  affinity(user: UserLatent, adIndex: number): number {
    const offset = adIndex * TOPIC_COUNT;
    let s = 0;
    for (let k = 0; k < user.interests.length; k++) s += user.interests[k] * this.topics[offset + k];
    return s;
  }

  qualityOf(adIndex: number): number {
    return this.quality[adIndex];
  }

  pClickExamined(user: UserLatent, adIndex: number, ctx: ServeContext): number {
    return clickProbabilityExamined(this.affinity(user, adIndex), this.quality[adIndex], ctx);
  }

  pConversion(user: UserLatent, adIndex: number): number {
    return conversionProbability(this.affinity(user, adIndex), this.conversionQuality[adIndex]);
  }
}
