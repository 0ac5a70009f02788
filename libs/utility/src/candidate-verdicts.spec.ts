import { describe, expect, it } from '@jest/globals';
import { CandidateVerdict, type AuctionCandidate } from './auction-outcome.js';
import { allocateInOrder } from './allocate-in-order.js';
import { runAuction } from './run-auction.js';
import { PRICING_MECHANISMS } from './auction-outcome.js';

/** 0.50 USD CPM floor = 0.0005 USD per impression. */
const RESERVE = 0.0005;

function candidate(adId: number, advertiserId: number, bid: Partial<AuctionCandidate>): AuctionCandidate {
  return {
    adId,
    campaignId: adId * 10,
    advertiserId,
    bidType: 'CPM',
    bid: 1,
    pCtr: 0.01,
    pCvr: 0.05,
    ...bid,
  };
}

const market = [
  candidate(1, 10, { bid: 8 }),
  candidate(2, 10, { bid: 7 }), // the same advertiser as ad 1: one ad per advertiser
  candidate(3, 20, { bid: 6 }),
  candidate(4, 30, { bid: 0.4 }), // 0.4 CPM is under the 0.5 reserve
  candidate(5, 40, { bid: 5, pCtr: 0.001 }), // under the 0.002 pCTR floor
  candidate(6, 50, { bid: 3 }), // past every gate, but two slots go to 8 and 6
  candidate(7, 60, { bid: 9, reservePerImpression: 0.01 }), // its own 10 CPM reserve is above its bid
];

describe('CandidateVerdict', () => {
  it.each(PRICING_MECHANISMS)('%s says what became of every candidate', (mechanism) => {
    const verdicts = new Uint8Array(market.length).fill(255);
    const outcome = runAuction(mechanism, {
      candidates: market,
      slots: 2,
      reservePerImpression: RESERVE,
      floors: { minPCtr: 0.002, minUtility: 0 },
      verdicts,
    });
    expect(outcome.winners.map((w) => w.adId).sort()).toEqual([1, 3]);
    expect([...verdicts]).toEqual([
      CandidateVerdict.won,
      CandidateVerdict.advertiserCapped,
      CandidateVerdict.won,
      CandidateVerdict.belowReserve,
      CandidateVerdict.belowFloor,
      CandidateVerdict.outbid,
      CandidateVerdict.belowReserve,
    ]);
  });

  it.each(PRICING_MECHANISMS)('%s tells the category cap from the advertiser cap', (mechanism) => {
    const verdicts = new Uint8Array(4).fill(255);
    runAuction(mechanism, {
      candidates: [
        candidate(1, 10, { bid: 8, category: 'shoes' }),
        candidate(2, 10, { bid: 7, category: 'books' }), // its advertiser's one ad is ad 1
        candidate(3, 20, { bid: 6, category: 'shoes' }), // the one ad of shoes is ad 1
        candidate(4, 30, { bid: 5, category: 'books' }),
      ],
      slots: 2,
      reservePerImpression: RESERVE,
      diversity: { maxPerAdvertiser: 1, maxPerCategory: 1 },
      verdicts,
    });
    expect([...verdicts]).toEqual([
      CandidateVerdict.won,
      CandidateVerdict.advertiserCapped,
      CandidateVerdict.categoryCapped,
      CandidateVerdict.won,
    ]);
    allocateInOrder({
      candidates: [candidate(1, 10, { category: 'shoes' }), candidate(2, 20, { category: 'shoes' })],
      slots: 2,
      reservePerImpression: RESERVE,
      diversity: { maxPerAdvertiser: 1, maxPerCategory: 1 },
      verdicts,
    });
    expect([...verdicts.subarray(0, 2)]).toEqual([CandidateVerdict.won, CandidateVerdict.categoryCapped]);
  });

  it('leaves the outcome as it is without a buffer', () => {
    const withBuffer = runAuction('gsp', {
      candidates: market,
      slots: 2,
      reservePerImpression: RESERVE,
      verdicts: new Uint8Array(market.length),
    });
    const without = runAuction('gsp', { candidates: market, slots: 2, reservePerImpression: RESERVE });
    expect(withBuffer).toEqual(without);
  });

  it('refuses a buffer shorter than the candidates', () => {
    expect(() =>
      runAuction('gsp', {
        candidates: market,
        slots: 2,
        reservePerImpression: RESERVE,
        verdicts: new Uint8Array(3),
      }),
    ).toThrow('verdicts holds 3 entries for 7 candidates');
  });

  it('in retrieval order: the first payable ads win, later ones are outbid by the order', () => {
    const verdicts = new Uint8Array(market.length).fill(255);
    const outcome = allocateInOrder({
      candidates: market,
      slots: 2,
      reservePerImpression: RESERVE,
      verdicts,
    });
    expect(outcome.winners.map((w) => w.adId)).toEqual([1, 3]);
    expect([...verdicts]).toEqual([
      CandidateVerdict.won,
      CandidateVerdict.advertiserCapped,
      CandidateVerdict.won,
      CandidateVerdict.belowReserve,
      CandidateVerdict.outbid, // no floors in retrieval order: it pays the reserve at the priors
      CandidateVerdict.outbid,
      CandidateVerdict.belowReserve,
    ]);
  });
});
