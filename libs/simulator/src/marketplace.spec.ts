import { describe, expect, it } from '@jest/globals';
import { COUNTRIES, DEVICES } from '@adfunnel/contracts';
import { TOPIC_COUNT, dot } from '@adfunnel/features';
import { groundTruth } from './ground-truth.js';
import { DEMO_MARKETPLACE, adAt, ads, campaignAt, campaignCount, userAt } from './marketplace.js';
import { Rng } from './rng.js';

const small = { ...DEMO_MARKETPLACE, advertisers: 20, ads: 500, users: 300 };

describe('marketplace generation', () => {
  it('is deterministic: entity i is the same alone or in a stream', () => {
    const streamed = [...ads(small)];
    expect(streamed).toHaveLength(500);
    expect(adAt(small, 123)).toEqual(streamed[123]);
    expect(userAt(small, 7)).toEqual(userAt({ ...small }, 7));
  });

  it('changes with the seed', () => {
    expect(adAt(small, 3).title + adAt(small, 3).quality).not.toBe(
      adAt({ ...small, seed: 7 }, 3).title + adAt({ ...small, seed: 7 }, 3).quality,
    );
  });

  it('links every ad to a campaign of its own advertiser', () => {
    for (const ad of ads(small)) {
      const campaign = campaignAt(small, ad.campaignId - 1);
      expect(campaign.advertiserId).toBe(ad.advertiserId);
    }
    expect(new Set([...ads(small)].map((a) => a.campaignId)).size).toBe(campaignCount(small));
  });

  it('draws valid users, ads and targeting', () => {
    const user = userAt(small, 0);
    expect(COUNTRIES).toContain(user.country);
    expect(DEVICES).toContain(user.device);
    expect(user.interests.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    const ad = adAt(small, 0);
    expect(ad.topics).toHaveLength(TOPIC_COUNT);
    expect(Math.sqrt(dot(ad.embedding, ad.embedding))).toBeCloseTo(1, 5);
    for (let i = 0; i < campaignCount(small); i++) {
      const c = campaignAt(small, i);
      expect(c.bid).toBeGreaterThan(0);
      for (const country of c.targetCountries) expect(COUNTRIES).toContain(country);
    }
  });

  it('rejects an index outside the marketplace', () => {
    expect(() => adAt(small, 500)).toThrow(/ad index 500 outside 0..499/);
  });
});

describe('groundTruth', () => {
  const user = userAt(small, 1);
  const liked = [...ads(small)].sort((a, b) => dot(b.topics, user.interests) - dot(a.topics, user.interests));

  it('gives relevant ads a higher click probability on average', () => {
    const ctx = { surface: 'home_feed' as const, device: 'mobile' as const };
    const mean = (xs: typeof liked) =>
      xs.reduce((s, a) => s + groundTruth.pClickExamined(user, a, ctx), 0) / xs.length;
    expect(mean(liked.slice(0, 50))).toBeGreaterThan(2 * mean(liked.slice(-50)));
  });

  it('decays with slot position', () => {
    const ad = liked[0];
    const at = (position: number) =>
      groundTruth.pClick(user, ad, { surface: 'search', device: 'desktop', position });
    expect(at(1)).toBeCloseTo(at(0) * 0.6, 10);
    expect(at(3)).toBeLessThan(at(2));
  });

  it('matches its empirical click rate within a 99.9% interval', () => {
    const rng = new Rng(11);
    const ad = liked[0];
    const ctx = { surface: 'home_feed' as const, device: 'mobile' as const };
    const p = groundTruth.pClickExamined(user, ad, ctx);
    const n = 200_000;
    let clicks = 0;
    for (let i = 0; i < n; i++) if (rng.bernoulli(p)) clicks++;
    const halfWidth = 3.29 * Math.sqrt((p * (1 - p)) / n);
    expect(Math.abs(clicks / n - p)).toBeLessThan(halfWidth);
  });
});

describe(Rng.name, () => {
  it('draws Dirichlet vectors on the simplex and normals with unit variance', () => {
    const sut = new Rng(5);
    const d = sut.dirichlet([0.3, 0.3, 0.3, 0.3]);
    expect(d.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    let s2 = 0;
    for (let i = 0; i < 50_000; i++) s2 += sut.normal() ** 2;
    expect(s2 / 50_000).toBeCloseTo(1, 1);
  });
});
