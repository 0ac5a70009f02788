import type { BidType } from '@adfunnel/contracts';

/** A click as conversions are attributed to it: which ad, campaign and advertiser, at what price and when. */
export interface ClickRecord {
  eventId: string;
  adId: number;
  campaignId: number;
  advertiserId: number;
  requestId: string;
  userId: string;
  slot: number;
  bidType: BidType;
  price: number;
  servedAt: number;
  occurredAt: number;
  /** The budget slice its ad was served from; its conversion is billed to the same one. */
  budgetSlice?: string;
}

/** Finds a click by its id (the adf_click_id of the landing URL); null when the funnel never saw it. */
export abstract class ClickLookup {
  abstract find(clickId: string): Promise<ClickRecord | null>;
}
