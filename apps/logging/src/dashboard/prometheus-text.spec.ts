import { describe, expect, it } from '@jest/globals';
import { histogramSummaries, parseMetricSamples, quantile, sumOf } from './prometheus-text.js';

const SCRAPE = `# HELP adfunnel_gateway_phase_duration_seconds phases
# TYPE adfunnel_gateway_phase_duration_seconds histogram
adfunnel_gateway_phase_duration_seconds_bucket{le="0.001",phase="ranking",service="gateway"} 0
adfunnel_gateway_phase_duration_seconds_bucket{le="0.01",phase="ranking",service="gateway"} 50
adfunnel_gateway_phase_duration_seconds_bucket{le="0.1",phase="ranking",service="gateway"} 100
adfunnel_gateway_phase_duration_seconds_bucket{le="+Inf",phase="ranking",service="gateway"} 100
adfunnel_gateway_phase_duration_seconds_sum{phase="ranking",service="gateway"} 2
adfunnel_gateway_phase_duration_seconds_count{phase="ranking",service="gateway"} 100
adfunnel_gateway_phase_duration_seconds_bucket{le="0.001",phase="claim",service="gateway"} 0
adfunnel_gateway_phase_duration_seconds_bucket{le="0.01",phase="claim",service="gateway"} 0
adfunnel_gateway_phase_duration_seconds_bucket{le="0.1",phase="claim",service="gateway"} 0
adfunnel_gateway_phase_duration_seconds_bucket{le="+Inf",phase="claim",service="gateway"} 0
adfunnel_gateway_phase_duration_seconds_sum{phase="claim",service="gateway"} 0
adfunnel_gateway_phase_duration_seconds_count{phase="claim",service="gateway"} 0
adfunnel_gateway_ad_answers_total{surface="home_feed",outcome="served",service="gateway"} 3
adfunnel_gateway_ad_answers_total{surface="search",outcome="no_ads",service="gateway"} 2
`;

describe('prometheus text', () => {
  it('reads samples with their labels and sums a counter over the labels left out', () => {
    const samples = parseMetricSamples(SCRAPE);

    expect(sumOf(samples, 'adfunnel_gateway_ad_answers_total')).toBe(5);
    expect(sumOf(samples, 'adfunnel_gateway_ad_answers_total', { outcome: 'served' })).toBe(3);
    expect(samples.find((s) => s.labels['le'] === '+Inf')?.value).toBe(100);
  });

  it('estimates quantiles per label value as histogram_quantile does', () => {
    const byPhase = new Map(
      histogramSummaries(parseMetricSamples(SCRAPE), 'adfunnel_gateway_phase_duration_seconds', 'phase').map(
        (h) => [h.key, h],
      ),
    );

    const ranking = byPhase.get('ranking');
    expect(ranking?.count).toBe(100);
    expect(ranking?.p50).toBeCloseTo(0.01);
    expect(ranking?.p90).toBeCloseTo(0.01 + 0.09 * 0.8);
    expect(ranking?.mean).toBeCloseTo(0.02);
    expect(byPhase.get('claim')).toMatchObject({ count: 0, p50: null, p99: null, mean: null });
  });

  it('answers the last finite bound for a rank in the +Inf bucket', () => {
    expect(
      quantile(0.99, [
        [0.1, 10],
        [Infinity, 20],
      ]),
    ).toBe(0.1);
  });
});
