import { describe, expect, it } from '@jest/globals';
import { DEMO_MARKETPLACE, type MarketplaceSpec, adAt, ads, userAt, users } from './marketplace.js';

/**
 * 200,000 of each here: jest's VM sandbox makes this code ~6x slower than plain Node. The million
 * (README: "Scale") streams the same way: entity i depends only on (seed, kind, i).
 */
const LARGE: MarketplaceSpec = { ...DEMO_MARKETPLACE, advertisers: 4000, ads: 200_000, users: 200_000 };
/** 200,000 materialised ads hold about 140 MB; streaming keeps only garbage awaiting collection. */
const MAX_HEAP_GROWTH = 64 * 1024 * 1024;

function heapGrowthWhile(iterate: (sample: () => void) => void): number {
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  iterate(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  });
  return peak - base;
}

describe('streaming generation of a large marketplace', () => {
  it('streams 200,000 users and 200,000 ads with bounded heap, each equal to its entity-at-index', () => {
    let count = 0;
    let activity = 0;
    const userGrowth = heapGrowthWhile((sample) => {
      for (const u of users(LARGE)) {
        activity += u.activity;
        if (++count % 10_000 === 0) sample();
        if (count === 177_777) expect(u).toEqual(userAt(LARGE, 177_776));
      }
    });
    expect(count).toBe(200_000);
    expect(activity / count).toBeGreaterThan(0.9);

    count = 0;
    const adGrowth = heapGrowthWhile((sample) => {
      for (const a of ads(LARGE)) {
        if (++count % 10_000 === 0) sample();
        if (count === 199_999) expect(a).toEqual(adAt(LARGE, 199_998));
      }
    });
    expect(count).toBe(200_000);
    expect(userGrowth).toBeLessThan(MAX_HEAP_GROWTH);
    expect(adGrowth).toBeLessThan(MAX_HEAP_GROWTH);
  }, 60_000);
});
