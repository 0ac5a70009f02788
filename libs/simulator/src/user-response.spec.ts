import { describe, expect, it } from '@jest/globals';
import { SURFACES } from '@adfunnel/contracts';
import { groundTruth } from './ground-truth.js';
import { DEMO_MARKETPLACE, adAt, userAt } from './marketplace.js';
import { Rng } from './rng.js';
import { respondToAd } from './user-response.js';

const small = { ...DEMO_MARKETPLACE, advertisers: 40, ads: 2000, users: 1000 };
const Z_999 = 3.29;

/** Sum of independent Bernoulli(p_i): mean sum p_i, variance sum p_i (1 - p_i). */
class BernoulliSum {
  observed = 0;
  expected = 0;
  variance = 0;
  add(p: number, happened: boolean): void {
    this.expected += p;
    this.variance += p * (1 - p);
    if (happened) this.observed++;
  }
  get z(): number {
    return (this.observed - this.expected) / Math.sqrt(this.variance);
  }
}

describe(respondToAd.name, () => {
  it('clicks, hides and converts at the ground-truth rates over 100,000 simulated impressions (99.9% interval)', () => {
    const rng = new Rng(2024);
    const clicks = new BernoulliSum();
    const hides = new BernoulliSum();
    const conversions = new BernoulliSum();
    const users = Array.from({ length: small.users }, (_, i) => userAt(small, i));
    const adList = Array.from({ length: small.ads }, (_, i) => adAt(small, i));
    for (let n = 0; n < 100_000; n++) {
      const user = users[rng.int(users.length)];
      const ad = adList[rng.int(adList.length)];
      const ctx = { surface: rng.pick(SURFACES), device: user.device, position: rng.int(5) };
      const level = rng.bernoulli(0.5) ? 0 : 2 * rng.next();
      const engagement = { level, multiplier: 1 / (1 + level * level) };
      const sut = respondToAd(user, ad, ctx, engagement, rng);
      clicks.add(groundTruth.pClickFatigued(user, ad, ctx, engagement), sut.clicked);
      hides.add(groundTruth.pHide(user, ad, ctx, engagement), sut.hidden);
      if (sut.clicked) conversions.add(groundTruth.pConversion(user, ad), sut.converted);
      expect(sut.pClick).toBeCloseTo(groundTruth.pClickFatigued(user, ad, ctx, engagement), 12);
    }
    expect(clicks.observed).toBeGreaterThan(500);
    expect(Math.abs(clicks.z)).toBeLessThan(Z_999);
    expect(Math.abs(hides.z)).toBeLessThan(Z_999);
    expect(Math.abs(conversions.z)).toBeLessThan(Z_999);
  });

  it('examines slots with the position model: decay^slot', () => {
    const rng = new Rng(7);
    const user = userAt(small, 0);
    const ad = adAt(small, 0);
    const examined = [new BernoulliSum(), new BernoulliSum(), new BernoulliSum()];
    for (let n = 0; n < 60_000; n++) {
      const position = n % 3;
      const r = respondToAd(
        user,
        ad,
        { surface: 'search', device: 'desktop', position },
        { multiplier: 1, level: 0 },
        rng,
      );
      examined[position].add(groundTruth.examination(position, 'search'), r.examined);
    }
    expect(examined[0].observed).toBe(20_000);
    for (const e of examined.slice(1)) expect(Math.abs(e.z)).toBeLessThan(Z_999);
    expect(groundTruth.examination(2, 'search')).toBeCloseTo(0.36, 12);
  });

  it('draws four uniforms per ad whatever happens, so one outcome never shifts the next', () => {
    const a = new Rng(99);
    const b = new Rng(99);
    respondToAd(
      userAt(small, 1),
      adAt(small, 1),
      { surface: 'home_feed', device: 'mobile', position: 0 },
      { multiplier: 1, level: 0 },
      a,
    );
    for (let i = 0; i < 4; i++) b.next();
    expect(a.next()).toBe(b.next());
  });

  it('never converts without a click nor hides what it clicked', () => {
    const rng = new Rng(5);
    for (let n = 0; n < 20_000; n++) {
      const r = respondToAd(
        userAt(small, n % 50),
        adAt(small, n % 700),
        { surface: 'home_feed', device: 'mobile', position: n % 4 },
        { multiplier: 1, level: 0 },
        rng,
      );
      if (r.converted) expect(r.clicked).toBe(true);
      if (r.clicked) expect(r.examined && !r.hidden).toBe(true);
    }
  });
});
