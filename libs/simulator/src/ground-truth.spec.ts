import { describe, expect, it } from '@jest/globals';
import { affinity, FRESH, groundTruth, irrelevance } from './ground-truth.js';
import { DEMO_MARKETPLACE, adAt, ads, userAt } from './marketplace.js';

const small = { ...DEMO_MARKETPLACE, advertisers: 20, ads: 500, users: 300 };

describe('groundTruth (fatigue, hides, stability)', () => {
  it('returns exactly what it returned before fatigue and hides were added (the catalog and training data depend on it)', () => {
    const user = userAt(DEMO_MARKETPLACE, 41);
    const ad = adAt(DEMO_MARKETPLACE, 1234);
    expect(groundTruth.pClickExamined(user, ad, { surface: 'search', device: 'mobile' })).toBe(
      0.30648492767205726,
    );
    expect(groundTruth.pConversion(user, ad)).toBe(0.165384998040054);
    expect(groundTruth.pClick(user, ad, { surface: 'related_items', device: 'tablet', position: 2 })).toBe(
      0.1285506933820038,
    );
  });

  it('measures irrelevance on 0..1: 0 for an ad in the top topic, 1 for an ad outside every interest', () => {
    const user = { interests: Float32Array.from([0.7, 0.3, 0, 0]) };
    expect(irrelevance(user, { topics: Float32Array.from([1, 0, 0, 0]) })).toBeCloseTo(0, 6);
    expect(irrelevance(user, { topics: Float32Array.from([0, 1, 0, 0]) })).toBeCloseTo(1 - 0.3 / 0.7, 6);
    expect(irrelevance(user, { topics: Float32Array.from([0, 0, 0.5, 0.5]) })).toBe(1);
    expect(affinity(user, { topics: Float32Array.from([0.5, 0.5, 0, 0]) })).toBeCloseTo(0.5, 6);
  });

  it('scales clicks by the fatigue multiplier and leaves conversions alone', () => {
    const user = userAt(small, 3);
    const ad = adAt(small, 10);
    const ctx = { surface: 'home_feed' as const, device: 'mobile' as const, position: 1 };
    expect(groundTruth.pClickFatigued(user, ad, ctx, { multiplier: 0.5, level: 1 })).toBeCloseTo(
      0.5 * groundTruth.pClick(user, ad, ctx),
      15,
    );
    expect(groundTruth.pClickFatigued(user, ad, ctx, FRESH)).toBe(groundTruth.pClick(user, ad, ctx));
  });

  it('makes hides likelier for irrelevant ads, for tired users, and in examined slots', () => {
    const user = userAt(small, 1);
    const sorted = [...ads(small)].sort((a, b) => irrelevance(user, a) - irrelevance(user, b));
    const relevant = sorted[0];
    const irrelevant = sorted[sorted.length - 1];
    const at = (position: number) => ({ surface: 'home_feed' as const, device: user.device, position });
    expect(groundTruth.pHide(user, irrelevant, at(0))).toBeGreaterThan(
      groundTruth.pHide(user, relevant, at(0)),
    );
    expect(groundTruth.pHide(user, irrelevant, at(0), { multiplier: 0.5, level: 1 })).toBeGreaterThan(
      groundTruth.pHide(user, irrelevant, at(0)),
    );
    expect(groundTruth.pHide(user, irrelevant, at(3))).toBeLessThan(
      groundTruth.pHide(user, irrelevant, at(0)),
    );
    for (const ad of sorted) {
      const p = groundTruth.pHide(user, ad, at(0), { multiplier: 0.2, level: 3 });
      expect(p).toBeGreaterThanOrEqual(0);
      expect(
        p + groundTruth.pClickFatigued(user, ad, at(0), { multiplier: 0.2, level: 3 }),
      ).toBeLessThanOrEqual(1);
    }
  });
});
