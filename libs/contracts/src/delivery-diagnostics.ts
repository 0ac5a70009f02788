/**
 * What logging's GET /v1/diagnostics/campaigns/:campaignId answers: where a campaign dropped out of
 * the funnel, and why. libs/delivery-diagnostics computes the diagnosis, logging returns it, and the
 * dashboard's delivery panel reads it (`import type` only).
 */

/** Why a campaign missed requests, one code per stage where it can drop out. */
export const DELIVERY_REASONS = [
  'paused',
  'ended',
  /** Archived by the advertiser (serving holds it as ended): final. */
  'archived',
  /** Neither active, paused, ended nor archived. */
  'inactive_status',
  'no_active_ads',
  'targeting',
  'budget_exhausted',
  'budget_committed',
  'frequency_capped',
  'not_retrieved',
  'inactive',
  'paced',
  'below_reserve',
  'below_floor',
  /** Left out by the auction's cap on ads of one advertiser an answer. */
  'advertiser_capped',
  /** Left out by the auction's cap on ads of one category an answer. */
  'category_capped',
  'outbid',
  'budget_refused',
] as const;
export type DeliveryReason = (typeof DELIVERY_REASONS)[number];

export interface DeliveryReasonCount {
  readonly reason: DeliveryReason;
  /** Requests (auctions, for the auction's reasons) the campaign missed for it in the window. */
  readonly count: number;
  /** Of the ad requests retrieval saw in the window. */
  readonly share: number;
}

/** The funnel of one campaign over the window, stage by stage, each count once per request. */
export interface DeliveryStages {
  readonly requests: number;
  /** Requests that matched its targeting while it was paused, ended or without an active ad. */
  readonly targetedInactive: number;
  /** Of targetedInactive, those while serving held it paused, and ended (or archived). */
  readonly targetedPaused: number;
  readonly targetedEnded: number;
  readonly eligible: number;
  readonly budgetExhausted: number;
  readonly budgetCommitted: number;
  readonly frequencyCapped: number;
  readonly retrieved: number;
  readonly ranked: number;
  readonly unranked: number;
  readonly auction: {
    readonly inactive: number;
    readonly paced: number;
    readonly belowReserve: number;
    readonly belowFloor: number;
    readonly advertiserCapped: number;
    readonly categoryCapped: number;
    readonly outbid: number;
    readonly budgetRefused: number;
    readonly won: number;
  };
  readonly served: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly conversions: number;
  readonly hides: number;
}

export interface DeliveryDiagnosis {
  /** Whether it serves now: active, with an active ad, and it served an ad in the window. */
  readonly serving: boolean;
  readonly stages: DeliveryStages;
  /** The largest reasons first, at most five. */
  readonly topReasons: readonly DeliveryReasonCount[];
  /** Sentences, the most decisive first. */
  readonly diagnosis: readonly string[];
}

/** The frequency cap in force (the campaign's own or the serving default); null: none. */
export type DeliveryFrequencyCap = { readonly max: number; readonly windowHours: number } | null;

/** What is counted per ad over the window (the names of libs/delivery-diagnostics' AD_COUNTS). */
export interface AdDeliveryCounts {
  readonly retrieved: number;
  readonly below_reserve: number;
  readonly below_floor: number;
  readonly advertiser_capped: number;
  readonly category_capped: number;
  readonly outbid: number;
  readonly budget_refused: number;
  readonly won: number;
  readonly served: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly conversions: number;
}

export interface AdDiagnostics extends AdDeliveryCounts {
  readonly adId: number;
}

/** GET /v1/diagnostics/campaigns/:campaignId?minutes=60. */
export interface CampaignDiagnostics extends DeliveryDiagnosis {
  readonly campaignId: number;
  readonly advertiserId: number;
  /**
   * The counts' window: the last `requestedMinutes` (?minutes=), or since the campaign was created
   * when that is later (`since`: "campaign_created", `from` its creation), or since its first ad was
   * when that is later still ("first_ad_created"): a campaign is compared only with the requests
   * from when it could have served. `minutes`: the minutes counted.
   */
  readonly window: {
    readonly minutes: number;
    readonly requestedMinutes: number;
    readonly from: string;
    readonly to: string;
    readonly since: 'campaign_created' | 'first_ad_created' | null;
  };
  /** What the catalog and the ledger say now, whatever the window's traffic. */
  readonly status: {
    readonly campaign: string;
    readonly ads: { readonly total: number; readonly active: number };
    readonly budget: {
      readonly billingDay: string;
      readonly timezone: string;
      readonly dailyBudgetMicros: number;
      /** Charged so far today, from the ledger. */
      readonly spendMicros: number;
      readonly remainingMicros: number;
    };
    readonly frequencyCap: DeliveryFrequencyCap;
    readonly targeting: { readonly countries: readonly string[]; readonly devices: readonly string[] };
  };
  /** Its most served ads in the window (then the most retrieved), at most ten. */
  readonly ads: readonly AdDiagnostics[];
}
