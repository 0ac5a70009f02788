import { describe, expect, it } from '@jest/globals';
import type { AuctionCandidate, AuctionOutcome } from './auction-outcome.js';
import { runFirstPrice } from './first-price.js';
import { runGsp } from './gsp.js';
import { runVcg } from './vcg.js';

function cpc(adId: number, bid: number, pCtr: number): AuctionCandidate {
  return { adId, campaignId: adId, advertiserId: adId, bidType: 'CPC', bid, pCtr, pCvr: 0.05 };
}

function prices(outcome: AuctionOutcome): Array<[number, number]> {
  return outcome.winners.map((w) => [w.adId, w.price]);
}

/** Per-click values s (best first) as CPC ads with one click rate, so slot k gets e[k] x pCtr clicks. */
function market(values: readonly number[], pCtr = 0.02): AuctionCandidate[] {
  return values.map((v, i) => cpc(i + 1, v, pCtr));
}

/**
 * The lowest locally envy-free equilibrium of GSP (Edelman, Ostrovsky & Schwarz 2007): the first
 * loser bids its value and the bidder in slot j is indifferent between its slot and the one above,
 * clicks[j] (s_j - b_{j+1}) = clicks[j-1] (s_j - b_j). `upper` gives the highest envy-free bids
 * instead, where the bidder above is indifferent to moving down.
 */
function eosBids(values: readonly number[], clicks: readonly number[], upper = false): number[] {
  const slots = clicks.length;
  const bids = [...values];
  for (let j = slots - 1; j >= 1; j--) {
    const s = upper ? values[j - 1] : values[j];
    bids[j] = s - (clicks[j] / clicks[j - 1]) * (s - bids[j + 1]);
  }
  return bids;
}

/** Revenue in the paper's units: clicks per period x price per click, summed over the slots. */
function revenue(outcome: AuctionOutcome, clicks: readonly number[]): number {
  return outcome.winners.reduce((sum, w) => sum + clicks[w.slot] * w.price, 0);
}

describe(runVcg.name, () => {
  it('charges the externality sum_{k>s} (e[k-1] - e[k]) c_k: three slots, four click ads, no reserve', () => {
    // e = 1, 0.75, 0.6; values per click 1.00, 0.80, 0.50, 0.40 at pCtr 0.02 -> c = 0.020, 0.016, 0.010, 0.008
    const input = {
      candidates: market([1, 0.8, 0.5, 0.4]),
      slots: 3,
      reservePerImpression: 0,
      examination: [1, 0.75, 0.6],
    };
    const sut = runVcg(input);
    // slot 2: (0.6 - 0) x 0.008 = 0.0048 per impression / (0.6 x 0.02) = 0.40 per click (the next bid, as in GSP)
    // slot 1: (0.75 - 0.6) x 0.010 + 0.0048 = 0.0063 / (0.75 x 0.02) = 0.42
    // slot 0: (1 - 0.75) x 0.016 + 0.0063 = 0.0103 / 0.02 = 0.515
    expect(prices(sut)).toEqual([
      [1, 0.515],
      [2, 0.42],
      [3, 0.4],
    ]);
    expect(sut.mechanism).toBe('vcg');
    // GSP charges each the next bid: 0.80, 0.50, 0.40
    expect(prices(runGsp(input))).toEqual([
      [1, 0.8],
      [2, 0.5],
      [3, 0.4],
    ]);
  });

  it('counts an empty slot at the reserve: one ad, two slots, pays the reserve', () => {
    // CPC 1.00 x 0.02 = 0.02; without it both slots would be empty: 2 x 0.0005; with it, slot 1 is empty: 0.0005
    const sut = runVcg({ candidates: [cpc(1, 1, 0.02)], slots: 2, reservePerImpression: 0.0005 });
    // pays 0.0005 per impression = 0.0005 / 0.02 = 0.025 per click
    expect(prices(sut)).toEqual([[1, 0.025]]);
  });

  it('prices a mixed page by what each ad costs the others: click ads A, C on top, CPM B below', () => {
    // A CPC 1.00 x 0.03 = 0.030, B CPM 20 = 0.020, C CPC 0.50 x 0.02 = 0.010, D CPA 10 x 0.01 x 0.05 = 0.005
    // e = 1, 0.75, 0.6; reserve 0.0005; W = 0.030 + 0.75 x 0.010 + 0.020 = 0.0575
    const candidates: AuctionCandidate[] = [
      cpc(1, 1, 0.03),
      { adId: 2, campaignId: 2, advertiserId: 2, bidType: 'CPM', bid: 20, pCtr: 0.01, pCvr: 0.05 },
      cpc(3, 0.5, 0.02),
      { adId: 4, campaignId: 4, advertiserId: 4, bidType: 'CPA', bid: 10, pCtr: 0.01, pCvr: 0.05 },
    ];
    const sut = runVcg({ candidates, slots: 3, reservePerImpression: 0.0005 });
    expect(sut.winners.map((w) => w.slot)).toEqual([0, 1, 2]);
    // A: without it C, D, B: 0.010 + 0.75 x 0.005 + 0.020 = 0.03375; others with it 0.0275 -> 0.00625 / 0.03 = 0.208334
    // C: without it A, D, B: 0.030 + 0.00375 + 0.020 = 0.05375; others with it 0.05 -> 0.00375 / 0.75 / 0.02 = 0.25
    // B: without it A, C, D: 0.030 + 0.0075 + 0.6 x 0.005 = 0.0405; others with it 0.0375 -> 0.003 -> 3.00 CPM
    expect(prices(sut)).toEqual([
      [1, 0.208334],
      [3, 0.25],
      [2, 3],
    ]);
  });

  describe('against GSP at the Edelman-Ostrovsky-Schwarz equilibrium', () => {
    // EOS's example: two slots of 200 and 199 clicks an hour, three bidders valuing a click 10, 4 and 2
    const clicks = [200, 199];
    const examination = clicks.map((c) => c / clicks[0]);
    const values = [10, 4, 2];

    it('VCG revenue 800 = GSP revenue at the lowest envy-free bids (10, 2.01, 2) and <= 806 at the highest (10, 2.04, 2)', () => {
      const vcg = runVcg({ candidates: market(values), slots: 2, reservePerImpression: 0, examination });
      // bidder 1: (1 - 0.995) x 4 + 0.995 x 2 = 2.01 per click; bidder 2: 2
      expect(prices(vcg)).toEqual([
        [1, 2.01],
        [2, 2],
      ]);
      expect(revenue(vcg, clicks)).toBeCloseTo(800, 6);

      const lowest = eosBids(values, clicks);
      expect(lowest).toEqual([10, expect.closeTo(2.01, 12), 2]);
      const gspLow = runGsp({ candidates: market(lowest), slots: 2, reservePerImpression: 0, examination });
      expect(revenue(gspLow, clicks)).toBeCloseTo(800, 3);

      const highest = eosBids(values, clicks, true);
      expect(highest[1]).toBeCloseTo(2.04, 12);
      const gspHigh = runGsp({ candidates: market(highest), slots: 2, reservePerImpression: 0, examination });
      expect(revenue(gspHigh, clicks)).toBeCloseTo(806, 3);

      // truthful bids are no GSP equilibrium: bidder 1 gets (10 - 4) x 200 = 1200 on top, (10 - 2) x 199 = 1592 below
      const truthful = runGsp({ candidates: market(values), slots: 2, reservePerImpression: 0, examination });
      expect(revenue(truthful, clicks)).toBeCloseTo(1198, 3);
    });

    it('keeps VCG revenue <= GSP revenue at every envy-free equilibrium, equal at the lowest (three slots)', () => {
      // clicks 100, 60, 30; values 5, 4, 2.5, 1
      const clicks3 = [100, 60, 30];
      const e3 = clicks3.map((c) => c / clicks3[0]);
      const v = [5, 4, 2.5, 1];
      const vcg = revenue(
        runVcg({ candidates: market(v), slots: 3, reservePerImpression: 0, examination: e3 }),
        clicks3,
      );
      // VCG: slot 2 pays 30 x 1 = 30; slot 1: (60 - 30) x 2.5 + 30 = 105; slot 0: (100 - 60) x 4 + 105 = 265; total 400
      expect(vcg).toBeCloseTo(400, 3);
      const low = revenue(
        runGsp({
          candidates: market(eosBids(v, clicks3)),
          slots: 3,
          reservePerImpression: 0,
          examination: e3,
        }),
        clicks3,
      );
      const high = revenue(
        runGsp({
          candidates: market(eosBids(v, clicks3, true)),
          slots: 3,
          reservePerImpression: 0,
          examination: e3,
        }),
        clicks3,
      );
      expect(low).toBeCloseTo(vcg, 3);
      expect(high).toBeGreaterThan(vcg);
    });
  });
});

describe(runFirstPrice.name, () => {
  it('charges every winner its bid on the same page GSP fills', () => {
    const candidates = market([1, 0.8, 0.5, 0.4]);
    const sut = runFirstPrice({ candidates, slots: 3, reservePerImpression: 0.0005 });
    expect(sut.mechanism).toBe('first_price');
    expect(prices(sut)).toEqual([
      [1, 1],
      [2, 0.8],
      [3, 0.5],
    ]);
    const gsp = runGsp({ candidates, slots: 3, reservePerImpression: 0.0005 });
    expect(sut.winners.map((w) => w.slot)).toEqual(gsp.winners.map((w) => w.slot));
  });
});
