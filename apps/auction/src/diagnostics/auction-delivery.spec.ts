import type { CatalogCampaign } from '@adfunnel/catalog';
import type { AuctionRequest } from '@adfunnel/contracts';
import {
  AD_COUNTS,
  CAMPAIGN_COUNTS,
  type DrainedCampaign,
  DeliveryTally,
  TOTAL_COUNTS,
} from '@adfunnel/delivery-diagnostics';
import { FakeCatalogSnapshots, catalogAdFactory, catalogSnapshot } from '@adfunnel/testing';
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AuctionService } from '../auction.service.js';
import { AuctionConfigSchema } from '../config.js';
import type { PacingService } from '../pacing/pacing.service.js';
import { AuctionDelivery } from './auction-delivery.js';

const count = (row: DrainedCampaign | undefined, name: (typeof CAMPAIGN_COUNTS)[number]) =>
  row?.counts?.[CAMPAIGN_COUNTS.indexOf(name)] ?? 0;
const adCount = (row: DrainedCampaign | undefined, adId: number, name: (typeof AD_COUNTS)[number]) =>
  row?.ads.find((a) => a.adId === adId)?.counts[AD_COUNTS.indexOf(name)] ?? 0;

describe(AuctionDelivery.name, () => {
  // Campaign 100 (advertiser 1): ads 1 and 2, CPM 20; campaign 200 (advertiser 2): ad 3, CPM 10;
  // campaign 300 (advertiser 3): ad 4, CPM 0.1, under the 0.50 CPM reserve; campaign 400 paused;
  // campaign 500 paced out.
  const snapshot = catalogSnapshot('v1', [
    catalogAdFactory(1, { id: 100, advertiserId: 1, bid: 20 }),
    catalogAdFactory(2, { id: 100, advertiserId: 1, bid: 20 }),
    catalogAdFactory(3, { id: 200, advertiserId: 2, bid: 10 }),
    catalogAdFactory(4, { id: 300, advertiserId: 3, bid: 0.1 }),
    catalogAdFactory(5, { id: 400, advertiserId: 4, bid: 50, status: 'paused' }),
    catalogAdFactory(6, { id: 500, advertiserId: 5, bid: 50 }),
  ]);
  const config = AuctionConfigSchema.parse({});
  const clock = { now: () => Date.UTC(2026, 2, 2, 9) };
  const pacing = {
    admits: (_requestId: string, campaign: CatalogCampaign) => campaign.id !== 500,
    countRequest: () => undefined,
  } as unknown as PacingService;
  let tally: DeliveryTally;
  let sut: AuctionDelivery;
  let auction: AuctionService;
  const request: AuctionRequest = {
    requestId: 'req-1',
    deadlineAt: Date.now() + 60_000,
    surface: 'home_feed',
    device: 'mobile',
    slots: 1,
    adIds: [1, 2, 3, 4, 5, 6],
    predictions: { pCtr: [0.01, 0.01, 0.01, 0.01, 0.01, 0.01], pCvr: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1] },
  };

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    tally = new DeliveryTally();
    sut = new AuctionDelivery(tally);
    auction = new AuctionService(new FakeCatalogSnapshots(snapshot).asService(), pacing, clock, config, sut);
  });

  it("counts each campaign once per auction by its best ad's verdict, with an outbid one's eCPM", () => {
    const response = auction.run(request);
    expect(response.winners.map((w) => w.adId)).toEqual([1]);
    auction.run(request);

    const drained = tally.drain();
    const of = (id: number) => drained.campaigns.find((c) => c.campaignId === id);
    expect(drained.totals[TOTAL_COUNTS.indexOf('auctions')]).toBe(2);
    // Its ad 2 is behind its ad 1, but the campaign won.
    expect(count(of(100), 'won')).toBe(2);
    expect(count(of(100), 'advertiser_capped')).toBe(0);
    expect(count(of(100), 'ranked')).toBe(2);
    expect(adCount(of(100), 1, 'won')).toBe(2);
    expect(adCount(of(100), 2, 'advertiser_capped')).toBe(2);
    expect(count(of(200), 'outbid')).toBe(2);
    // eCPM $10 against the winner's $20, in micro-USD, summed over the two auctions.
    expect(count(of(200), 'outbid_ecpm_micros')).toBe(2 * 10_000_000);
    expect(count(of(200), 'outbid_winner_ecpm_micros')).toBe(2 * 20_000_000);
    expect(count(of(300), 'below_reserve')).toBe(2);
    expect(count(of(400), 'inactive')).toBe(2);
    expect(count(of(400), 'ranked')).toBe(0);
    expect(count(of(500), 'paced')).toBe(2);
  });

  it("tells a campaign left out by the category cap from one behind its advertiser's other campaign", () => {
    // Every ad of the snapshot is in one category: one ad of it an answer leaves campaign 200 out.
    const oneOfACategory = AuctionConfigSchema.parse({ AUCTION_MAX_ADS_PER_CATEGORY: '1' });
    const capped = new AuctionService(
      new FakeCatalogSnapshots(
        catalogSnapshot('v1', [
          ...snapshot.ads,
          // Advertiser 1's other campaign, behind campaign 100's ads.
          catalogAdFactory(7, { id: 600, advertiserId: 1, bid: 15 }),
        ]),
      ).asService(),
      pacing,
      clock,
      oneOfACategory,
      sut,
    );
    capped.run({
      ...request,
      adIds: [...request.adIds, 7],
      predictions: { pCtr: [...request.predictions!.pCtr, 0.01], pCvr: [...request.predictions!.pCvr, 0.1] },
    });

    const drained = tally.drain();
    const of = (id: number) => drained.campaigns.find((c) => c.campaignId === id);
    expect(count(of(100), 'won')).toBe(1);
    expect(count(of(600), 'advertiser_capped')).toBe(1);
    expect(count(of(200), 'category_capped')).toBe(1);
    expect(count(of(200), 'outbid')).toBe(0);
  });

  it('counts a rerun not at all, and a winner its budget refused as refused instead of won', () => {
    auction.run(request);
    sut.refused([{ adId: 1, campaignId: 100 }]);
    // The rerun without campaign 100: campaign 200 takes the slot, but only the first run counts.
    expect(auction.run(request, clock.now(), undefined, new Set([100])).winners.map((w) => w.adId)).toEqual([
      3,
    ]);

    const drained = tally.drain();
    const of = (id: number) => drained.campaigns.find((c) => c.campaignId === id);
    expect(drained.totals[TOTAL_COUNTS.indexOf('auctions')]).toBe(1);
    expect(count(of(100), 'won')).toBe(0);
    expect(count(of(100), 'budget_refused')).toBe(1);
    expect(adCount(of(100), 1, 'budget_refused')).toBe(1);
    expect(count(of(200), 'outbid')).toBe(1);
    expect(count(of(200), 'won')).toBe(0);
  });

  it('counts an auction placed in retrieval order as unranked', () => {
    const { predictions: _scores, ...unranked } = request;
    auction.run(unranked);
    const row = tally.drain().campaigns.find((c) => c.campaignId === 100);
    expect(count(row, 'unranked')).toBe(1);
    expect(count(row, 'ranked')).toBe(0);
  });
});
