import { describe, expect, it } from '@jest/globals';
import type { AdResponse, ServedAd } from '@adfunnel/contracts';
import { Metrics } from '@adfunnel/platform';
import { metricValue } from '@adfunnel/testing';
import { AdServingMetrics } from './ad-serving-metrics.js';

function answerFactory(overrides: Partial<AdResponse> = {}): AdResponse {
  return {
    requestId: 'r-1',
    ads: [],
    ranking: 'model',
    modelVersion: 'm1',
    personalized: true,
    degraded: [],
    stages: { retrieval: 'ok', ranking: 'ok', auction: 'ok' },
    timingsMs: { claim: 0.2, profile: 0.1, retrieval: 2, ranking: 3, auction: 12, record: 0.4, total: 18 },
    ...overrides,
  };
}

const servedAd = { slot: 0 } as ServedAd;

describe(AdServingMetrics.name, () => {
  const setup = () => {
    const metrics = new Metrics({ service: 'gateway', defaultMetrics: false });
    return { metrics, sut: new AdServingMetrics(metrics) };
  };

  it('counts an answer with ads as served, its ads, each stage’s outcome and each phase’s time', async () => {
    const { metrics, sut } = setup();

    sut.answered('search', answerFactory({ ads: [servedAd, servedAd] }));
    const text = await metrics.scrape();

    const answers = 'adfunnel_gateway_ad_answers_total';
    expect(metricValue(text, answers, { surface: 'search', outcome: 'served' })).toBe(1);
    expect(metricValue(text, answers, { surface: 'search', outcome: 'no_ads' })).toBe(0);
    expect(metricValue(text, answers, { surface: 'home_feed' })).toBe(0);
    expect(metricValue(text, 'adfunnel_gateway_ads_served_total', { surface: 'search' })).toBe(2);
    expect(metricValue(text, 'adfunnel_gateway_stage_outcomes_total', { outcome: 'ok' })).toBe(3);
    expect(metricValue(text, 'adfunnel_gateway_degraded_answers_total')).toBe(0);
    const auction = { phase: 'auction' };
    expect(metricValue(text, 'adfunnel_gateway_phase_duration_seconds_sum', auction)).toBeCloseTo(0.012);
    expect(metricValue(text, 'adfunnel_gateway_phase_duration_seconds_count')).toBe(6);
  });

  it('counts a degraded answer under each of its reasons, and the stages that failed or timed out', async () => {
    const { metrics, sut } = setup();

    sut.answered(
      'home_feed',
      answerFactory({
        ranking: 'retrieval_order',
        degraded: ['user_activity_unavailable', 'ranking_unavailable'],
        stages: { retrieval: 'ok', ranking: 'timeout', auction: 'ok' },
        ads: [servedAd],
      }),
    );
    sut.answered(
      'home_feed',
      answerFactory({
        ranking: 'none',
        degraded: ['retrieval_unavailable'],
        stages: { retrieval: 'failed', ranking: 'skipped', auction: 'skipped' },
        timingsMs: { claim: 0.1, profile: 0.1, retrieval: 80, record: 0.3, total: 81 },
      }),
    );
    const text = await metrics.scrape();

    const degraded = (reason: string) =>
      metricValue(text, 'adfunnel_gateway_degraded_answers_total', { surface: 'home_feed', reason });
    expect(degraded('user_activity_unavailable')).toBe(1);
    expect(degraded('ranking_unavailable')).toBe(1);
    expect(degraded('retrieval_unavailable')).toBe(1);
    expect(degraded('auction_unavailable')).toBe(0);
    expect(degraded('served_record_unavailable')).toBe(0);
    const stage = (name: string, outcome: string) =>
      metricValue(text, 'adfunnel_gateway_stage_outcomes_total', { stage: name, outcome });
    expect(stage('ranking', 'timeout')).toBe(1);
    expect(stage('retrieval', 'failed')).toBe(1);
    expect(stage('auction', 'skipped')).toBe(1);
    const answers = 'adfunnel_gateway_ad_answers_total';
    expect(metricValue(text, answers, { surface: 'home_feed', outcome: 'no_ads' })).toBe(1);
    // A phase that did not run is not timed.
    expect(metricValue(text, 'adfunnel_gateway_phase_duration_seconds_count', { phase: 'ranking' })).toBe(1);
  });
});
