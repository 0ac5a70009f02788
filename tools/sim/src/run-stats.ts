import type { AdResponse, BidType } from '@adfunnel/contracts';
import { DAY_SECONDS, type MarketplaceSpec } from '@adfunnel/simulator';
import type { OracleMetrics } from './oracle/oracle-metrics.js';
import type { TopicMatchMetrics } from './oracle/topic-match.js';
import type { RequestOutcomes } from './request-outcomes.js';
import type { RunCalibration } from './run-calibration.js';

export interface RunInfo {
  gateway: string;
  spec: MarketplaceSpec;
  seed: number;
  population: number;
  arrivalsPerDay: number;
  slots: number;
  /** Simulated time of the first and last request, seconds since midnight of day 0. */
  simulatedStart: number;
  simulatedEnd: number;
  wallSeconds: number;
}

export interface BudgetSummary {
  /** (campaign, simulated day) pairs that spent anything. */
  campaignDays: number;
  campaigns: number;
  /** Of those campaign-days, how many spent more than the campaign's daily budget. */
  overBudget: number;
  /** spend / daily budget over campaign-days with spend. */
  utilisation: { p50: number; p90: number; max: number } | null;
  totalSpend: number;
}

export interface DaySummary {
  day: number;
  requests: number;
  impressions: number;
  clicks: number;
  ctr: number | null;
  meanFatigueMultiplier: number | null;
}

export interface RunSummary {
  run: RunInfo & { simulatedHours: number; requestsPerWallSecond: number };
  requests: number;
  /** Ad requests that failed (non-200 or network). */
  errors: number;
  errorSamples: string[];
  /** Requests answered with at least one degraded stage. */
  degradedShare: number | null;
  /** Requests that ranking did not score (served in retrieval order). */
  unrankedShare: number | null;
  slotsRequested: number;
  adsReturned: number;
  /** adsReturned / slotsRequested. */
  fillRate: number | null;
  /** Impression URLs fired and accepted (one per returned ad: a client renders every slot). */
  impressions: number;
  /** Ads the simulated users looked at (position model). */
  examined: number;
  clicks: number;
  /** clicks / impressions. */
  ctr: number | null;
  conversions: number;
  /** conversions / clicks. */
  cvr: number | null;
  hides: number;
  trackingErrors: {
    impression: number;
    click: number;
    conversion: number;
    hide: number;
    /** Organic activity reports the gateway refused (POST /v1/activity). */
    activity: number;
    samples: string[];
  };
  /** Organic events (engagements with the product's own content) reported through POST /v1/activity. */
  organicEvents: number;
  /** USD charged as logging charges it: CPM price/1000 per impression, CPC per click, CPA per conversion. */
  revenue: { total: number; CPM: number; CPC: number; CPA: number };
  /** USD the advertisers gained: value per conversion x conversions. */
  advertiserValue: number;
  engagement: {
    clicksPerRequest: number | null;
    hidesPerRequest: number | null;
    /** hides x 1000 / impressions. */
    hidesPerThousandImpressions: number | null;
    /** Mean over requests of the user's fatigue multiplier when the request was made (1 = fresh). */
    meanFatigueMultiplier: number | null;
    users: number;
  };
  budgets: BudgetSummary;
  latencyMs: { p50: number; p95: number; p99: number; max: number } | null;
  byDay: DaySummary[];
  oracle: OracleMetrics | null;
  /** Each request's impressions, clicks, conversions, hides, revenue and value: what sim compare pairs. */
  perRequest?: RequestOutcomes;
  /** Served ads of the request's topic (oracle): the search query's, the related item's. */
  topicMatch?: TopicMatchMetrics;
  /**
   * Predicted / observed clicks per surface from logging's calibration monitor, for this run's
   * requests; absent without ADMIN_TOKEN (the CLI reads it after the run).
   */
  calibration?: RunCalibration;
}

interface DayCounters {
  requests: number;
  impressions: number;
  clicks: number;
  fatigueSum: number;
}

const MAX_SAMPLES = 5;

/** The driver's counters; every method is called from the one event loop, in any order. */
export class RunStats {
  requests = 0;
  errors = 0;
  readonly errorSamples: string[] = [];
  degraded = 0;
  unranked = 0;
  answered = 0;
  slotsRequested = 0;
  adsReturned = 0;
  impressions = 0;
  examined = 0;
  clicks = 0;
  conversions = 0;
  hides = 0;
  readonly trackingErrors = { impression: 0, click: 0, conversion: 0, hide: 0, activity: 0 };
  organicEvents = 0;
  readonly trackingErrorSamples: string[] = [];
  readonly revenue: Record<BidType, number> = { CPM: 0, CPC: 0, CPA: 0 };
  advertiserValue = 0;
  private fatigueSum = 0;
  private readonly latencies: number[] = [];
  private readonly users = new Set<number>();
  /** key `${campaignId}:${day}` -> USD */
  private readonly spend = new Map<string, number>();
  private readonly days = new Map<number, DayCounters>();

  recordRequest(userIndex: number, at: number, fatigueMultiplier: number): void {
    this.requests++;
    this.users.add(userIndex);
    this.fatigueSum += fatigueMultiplier;
    const day = this.day(at);
    day.requests++;
    day.fatigueSum += fatigueMultiplier;
  }

  recordAnswer(answer: AdResponse, slots: number, latencyMs: number): void {
    this.answered++;
    this.latencies.push(latencyMs);
    this.slotsRequested += slots;
    this.adsReturned += answer.ads.length;
    if (answer.degraded.length > 0) this.degraded++;
    if (answer.ranking !== 'model') this.unranked++;
  }

  recordError(message: string): void {
    this.errors++;
    if (this.errorSamples.length < MAX_SAMPLES) this.errorSamples.push(message);
  }

  recordTrackingError(kind: keyof RunStats['trackingErrors'], message: string): void {
    this.trackingErrors[kind]++;
    if (this.trackingErrorSamples.length < MAX_SAMPLES) this.trackingErrorSamples.push(message);
  }

  recordImpression(at: number): void {
    this.impressions++;
    this.day(at).impressions++;
  }

  recordClick(at: number): void {
    this.clicks++;
    this.day(at).clicks++;
  }

  /** A charge of `amount` USD to the campaign at simulated time `at`. */
  charge(campaignId: number, bidType: BidType, amount: number, at: number): void {
    this.revenue[bidType] += amount;
    const key = `${campaignId}:${Math.floor(at / DAY_SECONDS)}`;
    this.spend.set(key, (this.spend.get(key) ?? 0) + amount);
  }

  summary(
    info: RunInfo,
    dailyBudgetOf: (campaignId: number) => number,
    oracle: OracleMetrics | null,
  ): RunSummary {
    const per = (x: number, n: number) => (n > 0 ? x / n : null);
    const simulatedHours = Math.max(0, info.simulatedEnd - info.simulatedStart) / 3600;
    return {
      run: {
        ...info,
        simulatedHours,
        requestsPerWallSecond: info.wallSeconds > 0 ? this.requests / info.wallSeconds : 0,
      },
      requests: this.requests,
      errors: this.errors,
      errorSamples: this.errorSamples,
      degradedShare: per(this.degraded, this.answered),
      unrankedShare: per(this.unranked, this.answered),
      slotsRequested: this.slotsRequested,
      adsReturned: this.adsReturned,
      fillRate: per(this.adsReturned, this.slotsRequested),
      impressions: this.impressions,
      examined: this.examined,
      clicks: this.clicks,
      ctr: per(this.clicks, this.impressions),
      conversions: this.conversions,
      cvr: per(this.conversions, this.clicks),
      hides: this.hides,
      trackingErrors: { ...this.trackingErrors, samples: this.trackingErrorSamples },
      organicEvents: this.organicEvents,
      revenue: { total: this.revenue.CPM + this.revenue.CPC + this.revenue.CPA, ...this.revenue },
      advertiserValue: this.advertiserValue,
      engagement: {
        clicksPerRequest: per(this.clicks, this.answered),
        hidesPerRequest: per(this.hides, this.answered),
        hidesPerThousandImpressions: per(1000 * this.hides, this.impressions),
        meanFatigueMultiplier: per(this.fatigueSum, this.requests),
        users: this.users.size,
      },
      budgets: this.budgets(dailyBudgetOf),
      latencyMs: latencySummary(this.latencies),
      byDay: [...this.days.entries()]
        .sort(([a], [b]) => a - b)
        .map(([day, d]) => ({
          day,
          requests: d.requests,
          impressions: d.impressions,
          clicks: d.clicks,
          ctr: per(d.clicks, d.impressions),
          meanFatigueMultiplier: per(d.fatigueSum, d.requests),
        })),
      oracle,
    };
  }

  private budgets(dailyBudgetOf: (campaignId: number) => number): BudgetSummary {
    const utilisation: number[] = [];
    const campaigns = new Set<number>();
    let overBudget = 0;
    let totalSpend = 0;
    for (const [key, spent] of this.spend) {
      const campaignId = Number(key.slice(0, key.indexOf(':')));
      campaigns.add(campaignId);
      totalSpend += spent;
      const u = spent / dailyBudgetOf(campaignId);
      utilisation.push(u);
      if (u > 1) overBudget++;
    }
    utilisation.sort((a, b) => a - b);
    return {
      campaignDays: utilisation.length,
      campaigns: campaigns.size,
      overBudget,
      utilisation:
        utilisation.length === 0
          ? null
          : {
              p50: quantile(utilisation, 0.5),
              p90: quantile(utilisation, 0.9),
              max: utilisation[utilisation.length - 1],
            },
      totalSpend,
    };
  }

  private day(at: number): DayCounters {
    const d = Math.floor(at / DAY_SECONDS);
    let counters = this.days.get(d);
    if (counters === undefined) {
      counters = { requests: 0, impressions: 0, clicks: 0, fatigueSum: 0 };
      this.days.set(d, counters);
    }
    return counters;
  }
}

/** Nearest-rank quantile of a sorted array. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function latencySummary(latencies: number[]): RunSummary['latencyMs'] {
  if (latencies.length === 0) return null;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1],
  };
}
