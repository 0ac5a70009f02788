import type { BidType, Pacing } from '@adfunnel/contracts';

/** Who a request acts for: one advertiser (its API key), or an operator (ADMIN_TOKEN) over all of them. */
export type AdvertiserScope = number | 'all';

/** What an operator gives when onboarding an advertiser. */
export interface NewAdvertiser {
  name: string;
  /** IANA name; the advertiser's billing day (budgets, spend, reports) is the calendar day here. */
  timezone: string;
}

export interface AdvertiserAccount extends NewAdvertiser {
  id: number;
  createdAt: number;
}

/** A campaign's settings an advertiser chooses. */
export interface CampaignSettings {
  name: string;
  bidType: BidType;
  /** USD; per 1000 impressions for CPM, per click for CPC, per conversion for CPA. */
  bid: number;
  /** USD per billing day (the advertiser's calendar day). */
  dailyBudget: number;
  /** Empty: every country. */
  targetCountries: string[];
  /** Empty: every device. */
  targetDevices: string[];
  pacing: Pacing;
  /** Impressions per user within frequencyWindowHours; null: the serving default. */
  frequencyCap: number | null;
  frequencyWindowHours: number | null;
  clickWindowDays: number;
  /** USD of advertiser value per 1000 impressions; null: the surface's reserve alone. */
  reserveCpm: number | null;
}

export const CAMPAIGN_STATES = ['active', 'paused', 'ended', 'archived'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];
export const AD_STATES = ['active', 'paused', 'archived'] as const;
export type AdState = (typeof AD_STATES)[number];
export type StateChange = 'pause' | 'resume' | 'archive';

export interface AdvertiserCampaign extends CampaignSettings {
  id: number;
  advertiserId: number;
  status: CampaignState;
  createdAt: number;
  archivedAt: number | null;
  /** When it took its status now (creation, pause, resume, archive); null: not kept then. */
  statusChangedAt: number | null;
}

/** An ad's creative: what the advertiser describes; serving derives the rest (its content embedding). */
export interface AdCreative {
  title: string;
  text: string;
  /** A topic of libs/features TOPICS. */
  category: string;
  landingUrl: string;
  imageUrl: string;
}

export interface AdvertiserAd extends AdCreative {
  id: number;
  campaignId: number;
  advertiserId: number;
  status: AdState;
  createdAt: number;
  archivedAt: number | null;
}

/** The rows a list answers at once when the caller names no limit. */
export const DEFAULT_PAGE_LIMIT = 100;
/** The most rows a caller may ask a list for at once: a page stays one bounded query and answer. */
export const MAX_PAGE_LIMIT = 1000;

/** One page of a list in id order: at most `limit` rows with ids above `after` (none: from the start). */
export interface PageRequest {
  limit: number;
  after?: number | undefined;
}

export interface Page<T> {
  items: T[];
  /** The `after` of the next page (the last id of this one); null: this page is the last. */
  next: number | null;
}
