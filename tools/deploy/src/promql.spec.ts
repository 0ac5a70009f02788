import { describe, expect, it } from '@jest/globals';
import { promqlReferences } from './promql.js';

describe(promqlReferences.name, () => {
  it('finds the series of a quantile, its matcher labels and its grouping labels', () => {
    const sut = promqlReferences(
      'histogram_quantile(0.99, sum by (le, phase) (rate(adfunnel_gateway_phase_duration_seconds_bucket{service="gateway",route=~"/v1/.*"}[$__rate_interval])))',
    );

    expect(sut.selectors).toEqual([
      { metric: 'adfunnel_gateway_phase_duration_seconds_bucket', labels: ['service', 'route'] },
    ]);
    expect(sut.groupingLabels).toEqual(['le', 'phase']);
  });

  it('takes bare metric names, leaves functions, keywords, numbers and label values out', () => {
    const sut = promqlReferences(
      'sum(rate(a_total{outcome!="by(x) ok"}[5m])) / on (service) group_left sum(b_total) > 1e3 or max(c)',
    );

    expect(sut.selectors.map((s) => s.metric)).toEqual(['a_total', 'b_total', 'c']);
    expect(sut.groupingLabels).toEqual(['service']);
  });

  it('refuses a selector without a metric name, which it could not check', () => {
    expect(() => promqlReferences('{__name__=~"adfunnel_.*"}')).toThrow('without a metric name');
  });
});
