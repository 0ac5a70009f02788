import { describe, expect, it } from '@jest/globals';
import { Rng } from '@adfunnel/simulator';
import { syntheticCatalog, targetingTiers } from './synthetic-catalog.js';

const COUNTRIES = ['US', 'GB', 'DE', 'JP'];

describe(targetingTiers.name, () => {
  it('gives the i-th country round(ads x share) eligible ads through nested tiers', () => {
    const sut = targetingTiers(1_000_000, [1, 0.1, 0.01, 0.001], COUNTRIES);

    expect(sut.map((t) => t.eligible)).toEqual([1_000_000, 100_000, 10_000, 1000]);
    expect(sut.map((t) => t.ads)).toEqual([900_000, 90_000, 9000, 1000]);
    expect(sut.map((t) => t.targetCountries)).toEqual([['US'], ['US', 'GB'], ['US', 'GB', 'DE'], []]);
  });

  it('rounds shares that do not divide the catalog and leaves ads beyond the broadest share out', () => {
    const sut = targetingTiers(1234, [0.5, 0.05], COUNTRIES);

    expect(sut.map((t) => t.eligible)).toEqual([617, 62]);
    expect(sut.reduce((sum, t) => sum + t.ads, 0)).toBe(617);
  });

  it('rejects shares that are not strictly decreasing, out of range, or too fine for the catalog', () => {
    expect(() => targetingTiers(100, [0.1, 0.2], COUNTRIES)).toThrow(
      'shares must be strictly decreasing, got 0.1 then 0.2',
    );
    expect(() => targetingTiers(100, [1.5], COUNTRIES)).toThrow('share 1.5 must be in (0, 1]');
    expect(() => targetingTiers(100, [1, 0.001], COUNTRIES)).toThrow(
      '100 ads are too few to give share 0.001 ads of its own',
    );
    expect(() => targetingTiers(100, [1, 0.5, 0.2, 0.1, 0.05], COUNTRIES)).toThrow(
      '5 shares need between 1 and 4 countries',
    );
  });
});

describe(syntheticCatalog.name, () => {
  const spec = {
    ads: 5000,
    dim: 16,
    seed: 3,
    tiers: targetingTiers(5000, [1, 0.1, 0.01], COUNTRIES),
    topics: 4,
    clustersPerTopic: 5,
  };
  const sees = (country: string) => (ad: { campaign: { targetCountries: readonly string[] } }) =>
    ad.campaign.targetCountries.length === 0 || ad.campaign.targetCountries.includes(country);

  it('lets each tier country see exactly its share of the catalog', () => {
    const sut = syntheticCatalog(spec);

    expect(['US', 'GB', 'DE', 'JP'].map((c) => sut.ads.filter(sees(c)).length)).toEqual([5000, 500, 50, 50]);
  });

  it('is the same catalog for the same seed, with unit vectors shared with the ads', () => {
    const a = syntheticCatalog(spec);
    const b = syntheticCatalog(spec);

    expect(b.vectors).toEqual(a.vectors);
    expect(b.ads.map((ad) => ad.campaign.id)).toEqual(a.ads.map((ad) => ad.campaign.id));
    expect(a.ads[7].embedding).toEqual(a.vectors.subarray(7 * 16, 8 * 16));
    const q = a.query(new Rng(1));
    const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
    expect(norm(q)).toBeCloseTo(1, 5);
    expect(norm(a.ads[4999].embedding)).toBeCloseTo(1, 5);
  });

  it('clusters the vectors: an ad is nearer its nearest neighbour than random ads are to each other', () => {
    const sut = syntheticCatalog(spec);
    const dot = (i: number, j: number) => {
      let s = 0;
      for (let d = 0; d < 16; d++) s += sut.vectors[i * 16 + d] * sut.vectors[j * 16 + d];
      return s;
    };
    let nearest = -1;
    for (let j = 1; j < 5000; j++) nearest = Math.max(nearest, dot(0, j));
    let random = 0;
    for (let j = 1; j <= 200; j++) random += dot(j, 5000 - j) / 200;

    expect(nearest).toBeGreaterThan(0.8);
    expect(random).toBeLessThan(0.3);
  });
});
