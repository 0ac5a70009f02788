import type { AdDeliveryCounts } from '@adfunnel/contracts';

/**
 * What the serving stages count per campaign, in funnel order. A campaign counts once per request at
 * each stage (its best ad decides the auction verdict), so the numbers compare with the requests.
 */
export const CAMPAIGN_COUNTS = [
  /** Retrieval: the request's country and device match its targeting, but it is paused or ended, or has no active ad. */
  'targeted_inactive',
  /**
   * Of targeted_inactive, those while the campaign was paused, and while it was ended (or archived):
   * the rest had no active ad. Counted by the status serving held then, so a campaign paused or
   * resumed within the window is told why it missed those requests, not by its status now.
   */
  'targeted_paused',
  'targeted_ended',
  /** Retrieval: the request's country and device match its targeting, and it and an ad are active. */
  'eligible',
  /** Eligible, but its charged spend leaves less of today's budget than one ad. */
  'budget_exhausted',
  /** Eligible, but spend plus the reservations of served, uncharged ads leaves less than one ad. */
  'budget_committed',
  /** Eligible and within budget, but this user has reached its frequency cap. */
  'frequency_capped',
  /** One of its ads is among retrieval's candidates. */
  'retrieved',
  /** Auction: its candidates came with the ranking model's predictions, */
  'ranked',
  /** or without them (ranking failed: the auction placed retrieval's order). */
  'unranked',
  /** The auction found it paused or ended (the catalog changed after retrieval's index). */
  'inactive',
  /** Pacing's pass-through rate kept it out of this auction. */
  'paced',
  'below_reserve',
  'below_floor',
  /**
   * Left out by the advertiser cap (AUCTION_MAX_ADS_PER_ADVERTISER): better ads of its advertiser's
   * other campaigns filled the answer's place for one advertiser (had one of its own ads been kept,
   * its best ad's verdict would be outbid or won).
   */
  'advertiser_capped',
  /** Left out by the category cap (AUCTION_MAX_ADS_PER_CATEGORY): better ads of its category filled it. */
  'category_capped',
  'outbid',
  /** It won, but its budget could not hold the reservation (other serves took the rest). */
  'budget_refused',
  'won',
  /** Gateway: ads in answers whose served record was written. */
  'served',
  /** Logging: events stored (duplicates not counted). */
  'impressions',
  'clicks',
  'conversions',
  'hides',
  /** Sums over its outbid auctions, micro-USD of eCPM: its best ad's, and the lowest winner's. */
  'outbid_ecpm_micros',
  'outbid_winner_ecpm_micros',
] as const;
export type CampaignCountName = (typeof CAMPAIGN_COUNTS)[number];

/** What is counted per ad: every ad of every candidate list, so fewer fields than per campaign. */
export const AD_COUNTS = [
  'retrieved',
  'below_reserve',
  'below_floor',
  'advertiser_capped',
  'category_capped',
  'outbid',
  'budget_refused',
  'won',
  'served',
  'impressions',
  'clicks',
  'conversions',
  // Each one a field of the diagnostics answer's per-ad counts (and logging's topAds needs them all).
] as const satisfies readonly (keyof AdDeliveryCounts)[];
export type AdCountName = (typeof AD_COUNTS)[number];

/** The requests the per-campaign counts compare with. */
export const TOTAL_COUNTS = ['retrieval_requests', 'auctions'] as const;
export type TotalCountName = (typeof TOTAL_COUNTS)[number];

function indexOf<const T extends readonly string[]>(names: T): { readonly [K in T[number]]: number } {
  return Object.freeze(Object.fromEntries(names.map((name, i) => [name, i]))) as {
    readonly [K in T[number]]: number;
  };
}

/** Index of each count in a row's typed array: `row.counts[CampaignCount.won]++`. */
export const CampaignCount = indexOf(CAMPAIGN_COUNTS);
export const AdCount = indexOf(AD_COUNTS);
export const TotalCount = indexOf(TOTAL_COUNTS);

export type CampaignCounts = Record<CampaignCountName, number>;
export type AdCounts = Record<AdCountName, number>;
export type TotalCounts = Record<TotalCountName, number>;

export function zeroCounts<const T extends readonly string[]>(names: T): Record<T[number], number> {
  return Object.fromEntries(names.map((name) => [name, 0])) as Record<T[number], number>;
}
