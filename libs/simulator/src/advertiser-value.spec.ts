import { describe, expect, it } from '@jest/globals';
import {
  ADVERTISER_VALUE,
  bidImpliedValue,
  campaignEconomics,
  campaignEconomicsAt,
} from './advertiser-value.js';
import { DEMO_MARKETPLACE, campaignAt, campaignCount } from './marketplace.js';

describe(campaignEconomicsAt.name, () => {
  it('values every conversion above what the bid pays for it: a CPA bid is strictly below the value', () => {
    for (const e of campaignEconomics(DEMO_MARKETPLACE)) {
      expect(e.margin).toBeGreaterThan(1);
      expect(e.valuePerConversion).toBeGreaterThan(bidImpliedValue(e.bidType, e.bid));
      if (e.bidType === 'CPA') expect(e.valuePerConversion).toBeGreaterThan(e.bid);
    }
  });

  it('puts CPC and CPM bids on the same scale through the assumed rates', () => {
    expect(bidImpliedValue('CPC', 0.6)).toBeCloseTo(0.6 / ADVERTISER_VALUE.assumedCvr, 12);
    expect(bidImpliedValue('CPM', 4)).toBeCloseTo(
      0.004 / (ADVERTISER_VALUE.assumedCtr * ADVERTISER_VALUE.assumedCvr),
      12,
    );
    expect(bidImpliedValue('CPA', 15)).toBe(15);
  });

  it('is deterministic and leaves the campaign itself unchanged', () => {
    const i = campaignCount(DEMO_MARKETPLACE) - 1;
    const e = campaignEconomicsAt(DEMO_MARKETPLACE, i);
    expect(campaignEconomicsAt(DEMO_MARKETPLACE, i)).toEqual(e);
    const c = campaignAt(DEMO_MARKETPLACE, i);
    expect([e.campaignId, e.bidType, e.bid]).toEqual([c.id, c.bidType, c.bid]);
  });
});
