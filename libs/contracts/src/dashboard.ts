import type { BidType, CampaignStatus, Pacing } from './domain.js';

/**
 * What logging's `/v1/dashboard` answers: the server returns these and the dashboard's page
 * (apps/dashboard, `import type` only) reads them.
 */

/** GET /v1/dashboard/session: an operator (ADMIN_TOKEN) sees every advertiser, an advertiser (its API key) its own. */
export type DashboardViewer =
  { readonly role: 'operator' } | { readonly role: 'advertiser'; readonly advertiserId: number };

/** Whether a service's /metrics answered the scrape. */
export interface DashboardServiceStatus {
  readonly service: string;
  readonly available: boolean;
  readonly error?: string;
}

export interface DashboardFunnelStage {
  readonly stage: string;
  /** null: the service that counts it did not answer. */
  readonly count: number | null;
  /** `metrics` (counters since the service started) or `events` (the event store, over the window). */
  readonly source: 'metrics' | 'events';
}

/** GET /v1/dashboard/funnel?window=24h. */
export interface DashboardFunnel {
  readonly since: number;
  readonly until: number;
  readonly stages: readonly DashboardFunnelStage[];
  readonly services: readonly DashboardServiceStatus[];
}

export interface DashboardCampaignRow {
  readonly campaignId: number;
  readonly advertiserId: number;
  readonly name: string;
  readonly status: CampaignStatus;
  readonly bidType: BidType;
  readonly pacing: Pacing;
  readonly billingDay: string;
  readonly timezone: string;
  readonly budgetMicros: number;
  readonly spendMicros: number;
  readonly overdeliveredMicros: number;
  readonly impressions: number;
  readonly clicks: number;
  readonly conversions: number;
  /** The pass-through rate pacing gives it now; null for an asap campaign or without a rate. */
  readonly passThroughRate: number | null;
}

/** GET /v1/dashboard/campaigns: the most charged first. */
export interface DashboardCampaigns {
  readonly campaigns: readonly DashboardCampaignRow[];
}

export interface DashboardPacingPoint {
  readonly t: number;
  readonly targetMicros: number;
  /** null after now. */
  readonly spendMicros: number | null;
}

/** GET /v1/dashboard/campaigns/:id/pacing?day=YYYY-MM-DD. */
export interface DashboardPacingCurve {
  readonly campaignId: number;
  readonly day: string;
  readonly timezone: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly budgetMicros: number;
  /** Every 15 minutes of the day: where the target curve is and the charged spend. */
  readonly points: readonly DashboardPacingPoint[];
  readonly passThroughRate: number | null;
  /** Whether the traffic curve was learnt from request counts (false: flat, no history). */
  readonly learntTraffic: boolean;
}

export interface DashboardLatencyRow {
  readonly service: string;
  /** What was timed: a gateway phase, a bus pattern handled, an HTTP route. */
  readonly kind: 'phase' | 'bus' | 'http';
  readonly stage: string;
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
}

/** GET /v1/dashboard/latency (operators). */
export interface DashboardLatency {
  readonly services: readonly (DashboardServiceStatus & { readonly url: string })[];
  readonly rows: readonly DashboardLatencyRow[];
}

export interface DashboardSurfaceCalibration {
  readonly surface: string;
  readonly impressions: number;
  readonly clicks: number;
  readonly expectedClicks: number;
  /** predicted / observed clicks (1 is calibrated), as served and as the model predicted; null without clicks. */
  readonly servedRatio: number | null;
  readonly modelRatio: number | null;
}

/** GET /v1/dashboard/calibration (operators). */
export interface DashboardCalibration {
  readonly impressions: number;
  readonly surfaces: readonly DashboardSurfaceCalibration[];
}
