import {
  type AdResponse,
  DEGRADATIONS,
  type Degradation,
  FUNNEL_STAGES,
  type FunnelStage,
  STAGE_OUTCOMES,
  SURFACES,
  type StageOutcome,
  type Surface,
} from '@adfunnel/contracts';
import {
  type Counter,
  type Histogram,
  LATENCY_BUCKETS_SECONDS,
  Metrics,
  startAtZero,
} from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';

/** The steps of an ad request the answer's `timingsMs` times, apart from `total` (the HTTP latency). */
export const AD_REQUEST_PHASES = ['claim', 'profile', 'retrieval', 'ranking', 'auction', 'record'] as const;
type Phase = (typeof AD_REQUEST_PHASES)[number];

interface SurfaceCounters {
  served: Counter.Internal;
  noAds: Counter.Internal;
  ads: Counter.Internal;
  degraded: Record<Degradation, Counter.Internal>;
}

/**
 * What the gateway answered to ad requests: answers with and without ads by surface, ads served,
 * degraded answers by reason (a stage failed or timed out, the served record or the user's activity
 * could not be read), each stage's outcome, and how long each phase of a request took. Every label
 * value is one of the contracts' lists, made up front, so a series exists (at 0) before its first
 * event and a request only increments.
 */
@Injectable()
export class AdServingMetrics {
  private readonly surfaces: Record<Surface, SurfaceCounters>;
  private readonly stages: Record<FunnelStage, Record<StageOutcome, Counter.Internal>>;
  private readonly phases: Record<Phase, Histogram.Internal<string>>;

  constructor(metrics: Metrics) {
    const answers = metrics.counter({
      name: 'adfunnel_gateway_ad_answers_total',
      help: 'Ad requests answered (200), by surface and outcome: served (at least one ad) or no_ads',
      labelNames: ['surface', 'outcome'],
    });
    const ads = metrics.counter({
      name: 'adfunnel_gateway_ads_served_total',
      help: 'Ads in the answers to ad requests, by surface',
      labelNames: ['surface'],
    });
    const degraded = metrics.counter({
      name: 'adfunnel_gateway_degraded_answers_total',
      help: 'Ad answers degraded, by surface and reason (one answer may count under several reasons)',
      labelNames: ['surface', 'reason'],
    });
    const stages = metrics.counter({
      name: 'adfunnel_gateway_stage_outcomes_total',
      help: 'What became of each funnel stage of an ad request: ok, failed, timeout or skipped',
      labelNames: ['stage', 'outcome'],
    });
    const phases = metrics.histogram({
      name: 'adfunnel_gateway_phase_duration_seconds',
      help: 'Time an ad request spent in each phase (request-id claim, profile, each stage, served record)',
      labelNames: ['phase'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
    });
    this.surfaces = recordOf(SURFACES, (surface) => ({
      served: startAtZero(answers.labels(surface, 'served')),
      noAds: startAtZero(answers.labels(surface, 'no_ads')),
      ads: startAtZero(ads.labels(surface)),
      degraded: recordOf(DEGRADATIONS, (reason) => startAtZero(degraded.labels(surface, reason))),
    }));
    this.stages = recordOf(FUNNEL_STAGES, (stage) =>
      recordOf(STAGE_OUTCOMES, (outcome) => startAtZero(stages.labels(stage, outcome))),
    );
    this.phases = recordOf(AD_REQUEST_PHASES, (phase) => phases.labels(phase));
  }

  answered(surface: Surface, answer: AdResponse): void {
    const counters = this.surfaces[surface];
    if (answer.ads.length > 0) {
      counters.served.inc();
      counters.ads.inc(answer.ads.length);
    } else {
      counters.noAds.inc();
    }
    for (const reason of answer.degraded) counters.degraded[reason].inc();
    for (const stage of FUNNEL_STAGES) {
      const outcome = answer.stages[stage];
      if (outcome !== undefined) this.stages[stage][outcome].inc();
    }
    for (const phase of AD_REQUEST_PHASES) {
      const ms = answer.timingsMs[phase];
      if (ms !== undefined) this.phases[phase].observe(ms / 1000);
    }
  }
}

function recordOf<K extends string, V>(keys: readonly K[], make: (key: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((key) => [key, make(key)])) as Record<K, V>;
}
