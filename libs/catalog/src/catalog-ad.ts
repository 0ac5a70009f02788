import type { BidType, CampaignStatus, Pacing } from '@adfunnel/contracts';

export const AD_STATUSES = ['active', 'paused'] as const;
export type AdStatus = (typeof AD_STATUSES)[number];

/** The campaign fields serving needs, denormalised onto every ad. */
export interface CatalogCampaign {
  id: number;
  advertiserId: number;
  status: CampaignStatus;
  bidType: BidType;
  /** USD; per 1000 impressions for CPM. */
  bid: number;
  dailyBudget: number;
  /** Empty means every country. */
  targetCountries: string[];
  /** Empty means every device. */
  targetDevices: string[];
  /** The advertiser's IANA time zone: a campaign's daily budget is per calendar day there. */
  timezone: string;
  /** Days after a click in which a conversion is attributed to it. */
  clickWindowDays: number;
  pacing: Pacing;
  /** Impressions per user per frequencyWindowHours; null: the serving default. */
  frequencyCap: number | null;
  frequencyWindowHours: number | null;
  /**
   * The campaign's own reserve, USD of advertiser value per 1000 impressions (AUCTION_RESERVE_CPM's
   * unit); the auction applies the higher of it and the surface's. Null or absent: none of its own.
   */
  reserveCpm?: number | null;
}

/** An ad with its campaign, as retrieval, ranking and auction read it. All statuses; consumers filter. */
export interface CatalogAd {
  id: number;
  campaignId: number;
  advertiserId: number;
  title: string;
  text: string;
  imageUrl: string;
  landingUrl: string;
  category: string;
  categoryIndex: number;
  status: AdStatus;
  embedding: Float32Array;
  campaign: CatalogCampaign;
}

/** What a user declared; interests are inferred from logged activity (libs/user-activity), not stored here. */
export interface CatalogUserProfile {
  userId: string;
  country: string;
  device: string;
  ageBand: string | null;
  gender: string | null;
}

/** One immutable load of the catalog; a refresh swaps in a new object, never mutates this one. */
export interface CatalogSnapshot {
  /** Content hash: equal versions mean identical ads and campaigns. */
  version: string;
  loadedAt: number;
  ads: CatalogAd[];
  byId: Map<number, CatalogAd>;
}

export interface CatalogCounts {
  advertisers: number;
  campaigns: number;
  ads: number;
  userProfiles: number;
}
