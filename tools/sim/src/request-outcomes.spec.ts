import { describe, expect, it } from '@jest/globals';
import { RequestOutcomeLog } from './request-outcomes.js';

describe(RequestOutcomeLog.name, () => {
  it('sums each request apart, whatever order the visits finish in, and lists them by seq', () => {
    const sut = new RequestOutcomeLog();
    sut.open(7);
    sut.open(3);
    sut.add(7, 'impressions');
    sut.add(3, 'impressions', 2);
    sut.add(7, 'revenue', 0.25);
    sut.add(7, 'revenue', 0.5);

    const columns = sut.columns();

    expect(columns.seq).toEqual([3, 7]);
    expect(columns.impressions).toEqual([2, 1]);
    expect(columns.revenue).toEqual([0, 0.75]);
    expect(columns.hides).toEqual([0, 0]);
  });

  it('refuses an outcome for a request it never opened', () => {
    expect(() => new RequestOutcomeLog().add(1, 'clicks')).toThrow('request 1 was not opened');
  });
});
