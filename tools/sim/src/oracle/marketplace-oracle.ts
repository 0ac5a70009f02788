import { TopK } from '@adfunnel/ad-index';
import type { Device, Surface } from '@adfunnel/contracts';
import { TOPIC_COUNT } from '@adfunnel/features';
import {
  LatentAdTable,
  type MarketplaceSpec,
  type SimCampaign,
  type UserLatent,
  campaignAt,
  campaignCount,
  campaignEconomicsAt,
  groundTruth,
} from '@adfunnel/simulator';
import { type Allocation, type ValuedAd, bestAllocation } from './allocation.js';
import type { ReplayAd } from './welfare-decomposition.js';

export interface OracleContext {
  surface: Surface;
  device: Device;
  country: string;
}

export interface RankedAds {
  adIds: number[];
  /** Same order as adIds, best first. */
  scores: number[];
  /** Ads that passed targeting. */
  eligible: number;
}

/**
 * The ground truth of the marketplace the catalog was seeded from, asked the questions the funnel
 * answers: which ads may this request see (the retrieval filter: active campaign, country and
 * device targeting), what is each worth in truth, and what would the best allocation have been.
 * Holds the ads in columns (LatentAdTable) and the campaigns as objects.
 */
export class MarketplaceOracle {
  private readonly eligibleCache = new Map<string, Int32Array>();
  private byTopic: Int32Array[] | undefined;

  private constructor(
    readonly spec: MarketplaceSpec,
    readonly ads: LatentAdTable,
    private readonly campaigns: readonly SimCampaign[],
    private readonly valuePerConversion: Float64Array,
    /** Ads of campaign c are the contiguous rows campaignStart[c] .. campaignStart[c + 1] - 1. */
    private readonly campaignStart: Int32Array,
  ) {}

  static build(spec: MarketplaceSpec): MarketplaceOracle {
    const ads = LatentAdTable.build(spec);
    const count = campaignCount(spec);
    const campaigns: SimCampaign[] = [];
    const values = new Float64Array(count);
    for (let c = 0; c < count; c++) {
      campaigns.push(campaignAt(spec, c));
      values[c] = campaignEconomicsAt(spec, c).valuePerConversion;
    }
    const start = new Int32Array(count + 1);
    let c = 0;
    for (let i = 0; i < spec.ads; i++) {
      const ci = ads.campaignIndexOf(i);
      while (c <= ci) start[c++] = i;
    }
    while (c <= count) start[c++] = spec.ads;
    return new MarketplaceOracle(spec, ads, campaigns, values, start);
  }

  /** The ad's dominant true topic (index into TOPICS), which is also its catalog category. */
  topicOfAd(adId: number): number {
    return this.ads.dominantTopic(this.ads.indexOf(adId));
  }

  /** Ids of the ads whose dominant topic is `topic`, every status, in id order. */
  adsOfTopic(topic: number): Int32Array {
    if (this.byTopic === undefined) {
      const lists = Array.from({ length: TOPIC_COUNT }, () => [] as number[]);
      for (let i = 0; i < this.ads.size; i++) lists[this.ads.dominantTopic(i)].push(i + 1);
      this.byTopic = lists.map((l) => Int32Array.from(l));
    }
    const ads = this.byTopic[topic];
    if (ads === undefined) throw new RangeError(`topic ${topic} outside 0..${TOPIC_COUNT - 1}`);
    return ads;
  }

  campaignOfAd(adId: number): SimCampaign {
    return this.campaigns[this.ads.campaignIndexOf(this.ads.indexOf(adId))];
  }

  campaign(campaignId: number): SimCampaign {
    const campaign = this.campaigns[campaignId - 1];
    if (campaign === undefined)
      throw new RangeError(`campaign ${campaignId} is not in the simulated marketplace`);
    return campaign;
  }

  valuePerConversionOfCampaign(campaignId: number): number {
    const v = this.valuePerConversion[campaignId - 1];
    if (v === undefined) throw new RangeError(`campaign ${campaignId} is not in the simulated marketplace`);
    return v;
  }

  /** True expected advertiser value of one examined impression of the ad: pClick x pConversion x value. */
  expectedValue(user: UserLatent, adId: number, ctx: OracleContext): number {
    return this.valueAt(user, this.ads.indexOf(adId), ctx);
  }

  pClickExamined(user: UserLatent, adId: number, ctx: OracleContext): number {
    return this.ads.pClickExamined(user, this.ads.indexOf(adId), ctx);
  }

  /** Rows of the ads a request from (country, device) may be shown, as the retrieval filter decides. */
  eligibleRows(country: string, device: Device): Int32Array {
    const key = `${country}|${device}`;
    let rows = this.eligibleCache.get(key);
    if (rows === undefined) {
      const out: number[] = [];
      this.campaigns.forEach((campaign, c) => {
        if (!admits(campaign, country, device)) return;
        for (let i = this.campaignStart[c]; i < this.campaignStart[c + 1]; i++) out.push(i);
      });
      rows = Int32Array.from(out);
      this.eligibleCache.set(key, rows);
    }
    return rows;
  }

  isEligible(adId: number, country: string, device: Device): boolean {
    return admits(this.campaignOfAd(adId), country, device);
  }

  /** The n eligible ads of highest true expected value per examined impression. */
  bestByValue(user: UserLatent, ctx: OracleContext, n: number): RankedAds {
    return this.best(n, ctx, (row) => this.valueAt(user, row, ctx));
  }

  /** The n eligible ads the user is likeliest to click when examined (relevance alone). */
  bestByClick(user: UserLatent, ctx: OracleContext, n: number): RankedAds {
    return this.best(n, ctx, (row) => this.ads.pClickExamined(user, row, ctx));
  }

  valued(user: UserLatent, adIds: readonly number[], ctx: OracleContext): ValuedAd[] {
    return adIds.map((adId) => ({
      adId,
      advertiserId: this.campaignOfAd(adId).advertiserId,
      value: this.expectedValue(user, adId, ctx),
    }));
  }

  /** The ads with their campaigns' bids, the model's predictions (aligned, or null) and the truth. */
  replayAds(
    user: UserLatent,
    adIds: readonly number[],
    ctx: OracleContext,
    model: { pCtr: readonly number[]; pCvr: readonly number[] } | null,
  ): ReplayAd[] {
    return adIds.map((adId, i) => {
      const row = this.ads.indexOf(adId);
      const campaignIndex = this.ads.campaignIndexOf(row);
      const campaign = this.campaigns[campaignIndex];
      return {
        adId,
        campaignId: campaign.id,
        advertiserId: campaign.advertiserId,
        bidType: campaign.bidType,
        bid: campaign.bid,
        model: model === null ? null : { pCtr: model.pCtr[i], pCvr: model.pCvr[i] },
        truePClick: this.ads.pClickExamined(user, row, ctx),
        truePConversion: this.ads.pConversion(user, row),
        valuePerConversion: this.valuePerConversion[campaignIndex],
      };
    });
  }

  /** The best one-ad-per-advertiser allocation of `slots` among all eligible ads. */
  bestEligibleAllocation(user: UserLatent, ctx: OracleContext, slots: number): Allocation {
    // A prefix of the ads by value holds each listed advertiser's best ad, and anyone unlisted is worth
    // less than everyone listed: once the prefix names `slots` advertisers, it holds the optimum.
    const want = Math.min(this.spec.ads, slots * 64);
    const top = this.bestByValue(user, ctx, want);
    const allocation = bestAllocation(this.valued(user, top.adIds, ctx), slots, (s) =>
      groundTruth.examination(s, ctx.surface),
    );
    if (allocation.adIds.length === slots || top.adIds.length === top.eligible) return allocation;
    const rows = this.eligibleRows(ctx.country, ctx.device);
    const everyAd = Array.from(rows, (row) => row + 1);
    return bestAllocation(this.valued(user, everyAd, ctx), slots, (s) =>
      groundTruth.examination(s, ctx.surface),
    );
  }

  private valueAt(user: UserLatent, row: number, ctx: OracleContext): number {
    const campaignIndex = this.ads.campaignIndexOf(row);
    return (
      this.ads.pClickExamined(user, row, ctx) *
      this.ads.pConversion(user, row) *
      this.valuePerConversion[campaignIndex]
    );
  }

  private best(n: number, ctx: OracleContext, score: (row: number) => number): RankedAds {
    const rows = this.eligibleRows(ctx.country, ctx.device);
    if (rows.length === 0) return { adIds: [], scores: [], eligible: 0 };
    const top = new TopK(Math.min(n, rows.length));
    for (const row of rows) top.push(score(row), row + 1);
    const { ids, scores } = top.drain();
    return { adIds: ids, scores, eligible: rows.length };
  }
}

/** The retrieval filter: an active campaign whose targeting admits the country and the device. */
function admits(campaign: SimCampaign, country: string, device: Device): boolean {
  return (
    campaign.status === 'active' &&
    (campaign.targetCountries.length === 0 || campaign.targetCountries.includes(country)) &&
    (campaign.targetDevices.length === 0 || campaign.targetDevices.includes(device))
  );
}
