import type { CatalogAd, CatalogCampaign } from '@adfunnel/catalog';
import { AdfunnelError, AuctionResponseSchema, type AuctionRequest } from '@adfunnel/contracts';
import { FakeCatalogSnapshots, catalogAdFactory, catalogSnapshot } from '@adfunnel/testing';
import { describe, expect, it, beforeAll, beforeEach } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AuctionService } from './auction.service.js';
import { AuctionConfigSchema } from './config.js';
import type { PacingService } from './pacing/pacing.service.js';

/** Ad `id` of campaign `id * 100` (advertiser `id * 10`), paced evenly, its bid type and bid as `campaign` says. */
function ad(
  id: number,
  campaign: Partial<CatalogCampaign> & Pick<CatalogCampaign, 'bidType' | 'bid'>,
  status: CatalogAd['status'] = 'active',
): CatalogAd {
  return catalogAdFactory(
    id,
    { id: id * 100, advertiserId: id * 10, pacing: 'even', ...campaign },
    { status },
  );
}

function request(overrides: Partial<AuctionRequest>): AuctionRequest {
  return {
    requestId: 'req-1',
    deadlineAt: Date.now() + 1000,
    surface: 'home_feed',
    device: 'mobile',
    slots: 2,
    adIds: [],
    ...overrides,
  };
}

describe(AuctionService.name, () => {
  // ad 1: CPC 0.50; ad 2: CPM 8; ad 3: CPA 20 in a paused campaign; ad 4: CPM 50 but the ad itself is paused
  const snapshot = catalogSnapshot('test-v1', [
    ad(1, { bidType: 'CPC', bid: 0.5 }),
    ad(2, { bidType: 'CPM', bid: 8 }),
    ad(3, { bidType: 'CPA', bid: 20, status: 'paused' }),
    ad(4, { bidType: 'CPM', bid: 50 }, 'paused'),
  ]);
  // defaults: reserve 0.50 CPM = 0.0005 per impression, priors pCtr 0.01, pCvr 0.05
  const config = AuctionConfigSchema.parse({});
  const NOW = Date.UTC(2026, 2, 2, 9);
  const clock = { now: () => NOW };
  /** Campaigns pacing holds back from every auction; and the instants requests were counted at. */
  let pacedOut: Set<number>;
  let counted: number[];
  let pacing: PacingService;
  let sut: AuctionService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    pacedOut = new Set();
    counted = [];
    pacing = {
      admits: (_requestId: string, campaign: CatalogCampaign) => !pacedOut.has(campaign.id),
      countRequest: (now: number) => counted.push(now),
    } as unknown as PacingService;
    sut = new AuctionService(new FakeCatalogSnapshots(snapshot).asService(), pacing, clock, config);
  });

  it('runs GSP on the predictions and ignores inactive campaigns and ads and unknown ids', () => {
    // ad 3 would be worth 20 x 0.9 x 0.5 = 9 per impression and ad 4 50 / 1000 = 0.05, but both are paused; 99 is unknown.
    // ad 1: 0.50 x 0.02 = 0.010, ad 2: 8 / 1000 = 0.008. The click ad takes slot 0 and the CPM ad, worth as much
    // anywhere, slot 1: they do not compete, so ad 1 pays the reserve 0.0005 / 0.02 = 0.025 per click, ad 2 0.50 CPM
    const response = sut.run(
      request({
        adIds: [2, 3, 4, 1, 99],
        predictions: { pCtr: [0.1, 0.9, 0.1, 0.02, 0.5], pCvr: [0.1, 0.5, 0.1, 0.1, 0.1] },
      }),
    );
    expect(AuctionResponseSchema.parse(response)).toEqual(response);
    expect(response.mechanism).toBe('gsp');
    expect(
      response.winners.map((w) => [w.slot, w.adId, w.campaignId, w.advertiserId, w.bidType, w.bid, w.price]),
    ).toEqual([
      [0, 1, 100, 10, 'CPC', 0.5, 0.025],
      [1, 2, 200, 20, 'CPM', 8, 0.5],
    ]);
    expect(response.winners[0]).toMatchObject({ pCtr: 0.02, pCvr: 0.1 });
    expect(response.winners[0].valuePerImpression).toBeCloseTo(0.01, 12);
    expect(response.reservePerImpression).toBe(0.0005);
    expect(response.considered).toBe(5);
    expect(response.eligible).toBe(2);
  });

  describe('mechanism and rules per surface', () => {
    // one slot: ad 1 CPC 0.50 x 0.02 = 0.010 beats ad 2 CPM 8 / 1000 = 0.008; second price 0.008 / 0.02 = 0.40, first price 0.50
    const oneSlot = (overrides: Partial<AuctionRequest>) =>
      request({
        adIds: [2, 1],
        slots: 1,
        predictions: { pCtr: [0.1, 0.02], pCvr: [0.1, 0.1] },
        ...overrides,
      });
    const withConfig = (env: Record<string, string>) =>
      new AuctionService(
        new FakeCatalogSnapshots(snapshot).asService(),
        pacing,
        clock,
        AuctionConfigSchema.parse(env),
      );

    it('runs the surface’s configured mechanism and says which ran', () => {
      const custom = withConfig({ AUCTION_MECHANISM_BY_SURFACE: 'search:first_price,related_items:vcg' });
      const search = custom.run(oneSlot({ surface: 'search' }));
      expect(search.mechanism).toBe('first_price');
      expect(search.winners.map((w) => [w.adId, w.price])).toEqual([[1, 0.5]]);
      expect(AuctionResponseSchema.parse(search)).toEqual(search);
      expect(custom.run(oneSlot({ surface: 'related_items' }))).toMatchObject({
        mechanism: 'vcg',
        winners: [{ adId: 1, price: 0.4 }],
      });
      expect(custom.run(oneSlot({ surface: 'home_feed' }))).toMatchObject({
        mechanism: 'gsp',
        winners: [{ adId: 1, price: 0.4 }],
      });
    });

    it('lets the request’s mechanism (an experiment arm) override its surface’s', () => {
      const custom = withConfig({ AUCTION_MECHANISM: 'vcg', AUCTION_MECHANISM_BY_SURFACE: 'search:gsp' });
      expect(custom.run(oneSlot({ surface: 'search', mechanism: 'first_price' })).mechanism).toBe(
        'first_price',
      );
      expect(custom.run(oneSlot({ surface: 'home_feed' })).mechanism).toBe('vcg');
    });

    it('prices at the surface’s reserve: search 9 CPM leaves only ad 1 (0.010), paying 0.009 / 0.02 = 0.45', () => {
      const custom = withConfig({ AUCTION_RESERVE_CPM_BY_SURFACE: 'search:9' });
      const search = custom.run(oneSlot({ surface: 'search' }));
      expect(search.reservePerImpression).toBe(0.009);
      expect(search.winners.map((w) => [w.adId, w.price])).toEqual([[1, 0.45]]);
      expect(search.eligible).toBe(1);
      expect(custom.run(oneSlot({ surface: 'home_feed' })).reservePerImpression).toBe(0.0005);
    });

    it('uses the surface’s examination: a flat curve on search lets the CPM ad price the click ad at 0.40', () => {
      // two slots: with 1 | 1 the CPM ad could take slot 0 as well as slot 1, so it competes with ad 1 there
      const custom = withConfig({ AUCTION_EXAMINATION_BY_SURFACE: 'search:1|1' });
      const twoSlots = { slots: 2, adIds: [2, 1], predictions: { pCtr: [0.1, 0.02], pCvr: [0.1, 0.1] } };
      expect(custom.run(request({ ...twoSlots, surface: 'home_feed' })).winners.map((w) => w.price)).toEqual([
        0.025, 0.5,
      ]);
      // flat: ad 1 must still beat the reserve only (CPM ads sit below click ads), so the same prices
      expect(custom.run(request({ ...twoSlots, surface: 'search' })).winners.map((w) => w.price)).toEqual([
        0.025, 0.5,
      ]);
    });

    it('drops ads under the quality floor: a minimum pCTR of 0.05 leaves only ad 2 (pCTR 0.1)', () => {
      const custom = withConfig({ AUCTION_MIN_PCTR: '0.05' });
      const response = custom.run(oneSlot({}));
      expect(response.winners.map((w) => [w.adId, w.price])).toEqual([[2, 0.5]]);
      expect(response.eligible).toBe(1);
    });
  });

  describe('allocation per surface and device', () => {
    // ad 1 CPC 0.50 x 0.05 = 0.025 (advertiser 10) over ad 2 CPM 8 / 1000 = 0.008 (advertiser 20), both electronics
    const twoAds = (overrides: Partial<AuctionRequest>) =>
      request({
        adIds: [2, 1],
        slots: 2,
        predictions: { pCtr: [0.01, 0.05], pCvr: [0.1, 0.1] },
        ...overrides,
      });
    const withConfig = (env: Record<string, string>) =>
      new AuctionService(
        new FakeCatalogSnapshots(snapshot).asService(),
        pacing,
        clock,
        AuctionConfigSchema.parse(env),
      );

    it('places each slot at the earliest named feed positions the surface’s spacing allows, and says where', () => {
      const custom = withConfig({ AUCTION_AD_SPACING_BY_SURFACE: 'home_feed:3' });
      const response = custom.run(twoAds({ adPositions: [1, 2, 3, 4, 9] }));
      expect(AuctionResponseSchema.parse(response)).toEqual(response);
      expect(response.winners.map((w) => [w.slot, w.position, w.adId])).toEqual([
        [0, 1, 1],
        [1, 4, 2],
      ]);
      // without named positions the ads form one block from position 0
      expect(custom.run(twoAds({})).winners.map((w) => w.position)).toEqual([0, 1]);
    });

    it('fills no more slots than the ad load of the request’s surface and device', () => {
      const custom = withConfig({ AUCTION_AD_LOAD_BY_SURFACE: 'home_feed.mobile:1' });
      expect(custom.run(twoAds({ device: 'mobile' })).winners.map((w) => w.adId)).toEqual([1]);
      expect(custom.run(twoAds({ device: 'desktop' })).winners.map((w) => w.adId)).toEqual([1, 2]);
    });

    it('caps ads per category: one electronics ad, the better one', () => {
      const custom = withConfig({ AUCTION_MAX_ADS_PER_CATEGORY_BY_SURFACE: 'home_feed:1' });
      const response = custom.run(twoAds({}));
      expect(response.winners.map((w) => w.adId)).toEqual([1]);
      expect(response.eligible).toBe(1);
      expect(custom.run(twoAds({ surface: 'search' })).winners.map((w) => w.adId)).toEqual([1, 2]);
    });
  });

  it('keeps retrieval order and prices at the reserve with the priors when predictions are absent', () => {
    // ad 2 CPM: 0.0005 x 1000 = 0.50; ad 1 CPC: 0.0005 / 0.01 = 0.05 (its value at the prior, 0.50 x 0.01 = 0.005, clears the reserve)
    const response = sut.run(request({ adIds: [3, 2, 1], slots: 3 }));
    expect(AuctionResponseSchema.parse(response)).toEqual(response);
    expect(response.mechanism).toBe('retrieval_order');
    expect(response.winners.map((w) => [w.slot, w.adId, w.price, w.pCtr, w.pCvr])).toEqual([
      [0, 2, 0.5, null, null],
      [1, 1, 0.05, null, null],
    ]);
    expect(response.considered).toBe(3);
    expect(response.eligible).toBe(2);
  });

  it('uses the configured reserve and priors', () => {
    // reserve 2 CPM = 0.002 per impression; prior pCtr 0.02: ad 1 is worth 0.50 x 0.02 = 0.01 and pays 0.002 / 0.02 = 0.10
    const custom = new AuctionService(
      new FakeCatalogSnapshots(snapshot).asService(),
      pacing,
      clock,
      AuctionConfigSchema.parse({ AUCTION_RESERVE_CPM: '2', AUCTION_PRIOR_CTR: '0.02' }),
    );
    const response = custom.run(request({ adIds: [1], slots: 1 }));
    expect(response.reservePerImpression).toBe(0.002);
    expect(response.winners.map((w) => w.price)).toEqual([0.1]);
  });

  it('rejects predictions that do not align with adIds as invalid_request', () => {
    const run = () => sut.run(request({ adIds: [1, 2], predictions: { pCtr: [0.1], pCvr: [0.1, 0.1] } }));
    expect(run).toThrow(AdfunnelError);
    expect(run).toThrow('predictions.pCtr has 1 entries but adIds has 2; they must align one to one');
    try {
      run();
    } catch (error) {
      expect((error as AdfunnelError).code).toBe('invalid_request');
    }
  });

  it('rejects a prediction outside [0, 1] as invalid_request naming the ad', () => {
    const run = () =>
      sut.run(request({ adIds: [1, 2], predictions: { pCtr: [0.1, 0.2], pCvr: [0.1, 1.5] } }));
    expect(run).toThrow('predictions.pCvr[1] (adId 2) must be a probability in [0, 1], got 1.5');
  });

  it('answers not_ready while the catalog has not loaded', () => {
    const unloaded = new AuctionService(new FakeCatalogSnapshots().asService(), pacing, clock, config);
    expect(() => unloaded.run(request({ adIds: [1] }))).toThrow('catalog snapshot is not loaded yet');
  });

  it('returns no winners for an empty candidate list', () => {
    const response = sut.run(request({ adIds: [], predictions: { pCtr: [], pCvr: [] } }));
    expect(response).toMatchObject({ mechanism: 'gsp', winners: [], considered: 0, eligible: 0 });
  });

  it('leaves the candidates pacing holds back out of the auction, before prices are set', () => {
    // Without ad 1 (campaign 100), ad 2 wins slot 0 alone and pays the reserve.
    pacedOut.add(100);

    const response = sut.run(
      request({ adIds: [2, 1], predictions: { pCtr: [0.1, 0.02], pCvr: [0.1, 0.1] } }),
    );

    expect(response.winners.map((w) => [w.slot, w.adId, w.price])).toEqual([[0, 2, 0.5]]);
    expect(response.eligible).toBe(1);
  });

  it('counts every request on the funnel clock for the traffic curve', () => {
    sut.run(request({ adIds: [1] }));
    sut.run(request({ adIds: [2] }), NOW + 5);

    expect(counted).toEqual([NOW, NOW + 5]);
  });
  describe('utility weights and user terms', () => {
    // one slot: ad 1 CPC 0.50 x 0.02 = 0.010, ad 2 CPM 8 / 1000 = 0.008
    const oneSlot = (overrides: Partial<AuctionRequest>) =>
      request({
        adIds: [2, 1],
        slots: 1,
        predictions: { pCtr: [0.1, 0.02], pCvr: [0.1, 0.1], pHide: [0, 0.01] },
        ...overrides,
      });
    const weighted = (weights: string) =>
      new AuctionService(
        new FakeCatalogSnapshots(snapshot).asService(),
        pacing,
        clock,
        AuctionConfigSchema.parse({ AUCTION_UTILITY_WEIGHTS: weights }),
      );

    it('ranks by the hide term when it counts, and the answer says which weights applied', () => {
      // ad 1 would cost 0.01 x 2 USD = 0.02 in hides, more than its 0.010: ad 2 wins at the reserve
      const sut = weighted('userValue=0,hide=1,fatigue=0');
      const response = sut.run(oneSlot({}));
      expect(response.winners.map((w) => [w.adId, w.price])).toEqual([[2, 0.5]]);
      expect(response.utilityWeights).toEqual({ advertiserValue: 1, userValue: 0, hide: 1, fatigue: 0 });
      expect(AuctionResponseSchema.parse(response)).toEqual(response);
      // an experiment arm turns the term off for its requests
      const arm = sut.run(oneSlot({ utilityWeights: { hide: 0 } }));
      expect(arm.winners.map((w) => [w.adId, w.price])).toEqual([[1, 0.4]]);
      expect(arm.utilityWeights).toMatchObject({ hide: 0 });
    });

    it('takes the fatigue of the user it is given: the same for every ad, past some exposure no ad', () => {
      const sut = weighted('userValue=0,hide=0,fatigue=1');
      // fresh (1 / 400 = 0.0025 off both): ad 1 still wins and pays 0.40
      expect(sut.run(oneSlot({}), NOW, 0).winners.map((w) => [w.adId, w.price])).toEqual([[1, 0.4]]);
      // ten recent ads: 21 / 400 = 0.0525, more than either ad brings
      expect(sut.run(oneSlot({}), NOW, 10).winners).toEqual([]);
      expect(sut.run(oneSlot({}), NOW, undefined).winners).toHaveLength(1);
    });

    it('refuses pHide that does not align with adIds or is not a probability', () => {
      const sut = weighted('hide=1');
      expect(() =>
        sut.run(oneSlot({ predictions: { pCtr: [0.1, 0.02], pCvr: [0.1, 0.1], pHide: [0] } })),
      ).toThrow('predictions.pHide has 1 entries but adIds has 2; they must align one to one');
      expect(() =>
        sut.run(oneSlot({ predictions: { pCtr: [0.1, 0.02], pCvr: [0.1, 0.1], pHide: [0, 2] } })),
      ).toThrow('predictions.pHide[1] (adId 1) must be a probability in [0, 1], got 2');
    });

    it('names no weights in retrieval order, which uses none', () => {
      expect(weighted('hide=1').run(request({ adIds: [1, 2] })).utilityWeights).toBeUndefined();
    });
  });
});
