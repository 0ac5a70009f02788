/** The dashboard's reads of /v1/dashboard, with the token the viewer signed in with. */

const TOKEN_KEY = 'adfunnel.dashboard.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  save: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** `path` under /v1/dashboard/, or an absolute path of the same service (`/v1/diagnostics/...`). */
export async function getJson<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const token = session.token();
  const query = new URLSearchParams(params).toString();
  const url = path.startsWith('/') ? path : `/v1/dashboard/${path}`;
  const res = await fetch(`${url}${query === '' ? '' : `?${query}`}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    cache: 'no-store',
  });
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new ApiError(res.status, body.message ?? `${path} answered ${res.status}`);
  return body as T;
}

export type Viewer = { role: 'operator' } | { role: 'advertiser'; advertiserId: number };

export interface Funnel {
  since: number;
  until: number;
  stages: { stage: string; count: number | null; source: 'metrics' | 'events' }[];
  services: { service: string; available: boolean; error?: string }[];
}

export interface CampaignRow {
  campaignId: number;
  advertiserId: number;
  name: string;
  status: string;
  bidType: string;
  pacing: string;
  billingDay: string;
  timezone: string;
  budgetMicros: number;
  spendMicros: number;
  overdeliveredMicros: number;
  impressions: number;
  clicks: number;
  conversions: number;
  passThroughRate: number | null;
}

export interface PacingCurve {
  campaignId: number;
  day: string;
  timezone: string;
  budgetMicros: number;
  points: { t: number; targetMicros: number; spendMicros: number | null }[];
  passThroughRate: number | null;
  learntTraffic: boolean;
}

/** GET /v1/diagnostics/campaigns/:id (logging's delivery diagnostics). */
export interface CampaignDelivery {
  campaignId: number;
  window: { minutes: number; from: string; to: string };
  serving: boolean;
  stages: Record<string, number | Record<string, number>>;
  topReasons: { reason: string; count: number; share: number }[];
  diagnosis: string[];
}

export interface Calibration {
  impressions: number;
  surfaces: {
    surface: string;
    impressions: number;
    clicks: number;
    expectedClicks: number;
    servedRatio: number | null;
    modelRatio: number | null;
  }[];
}

export interface Latency {
  services: { service: string; url: string; available: boolean; error?: string }[];
  rows: {
    service: string;
    kind: 'phase' | 'bus' | 'http';
    stage: string;
    count: number;
    p50Ms: number | null;
    p90Ms: number | null;
    p99Ms: number | null;
  }[];
}
