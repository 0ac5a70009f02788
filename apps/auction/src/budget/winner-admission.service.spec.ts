import { beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { BudgetRedis, BudgetStore, FrequencyCapStore } from '@adfunnel/budget';
import type { CatalogAd, CatalogCampaign } from '@adfunnel/catalog';
import {
  AdfunnelError,
  type AuctionRequest,
  type AuctionResponse,
  type AuctionWinner,
} from '@adfunnel/contracts';
import { Metrics } from '@adfunnel/platform';
import { FakeCatalogSnapshots, catalogAdFactory, catalogSnapshot, metricValue } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { AuctionConfigSchema } from '../config.js';
import { BudgetMetrics } from './budget-metrics.js';
import { type AuctionRun, WinnerAdmissionService } from './winner-admission.service.js';

// 20:00 UTC on 1 December is 2 December in Tokyo.
const NOW = Date.UTC(2026, 11, 1, 20);

/** Ad `id` of campaign `id * 100` (advertiser `id * 10`): CPM 8, 25 USD a day paced evenly, unless `campaign` says otherwise. */
function adFactory(id: number, campaign: Partial<CatalogCampaign> = {}): CatalogAd {
  return catalogAdFactory(id, {
    id: id * 100,
    advertiserId: id * 10,
    bidType: 'CPM',
    bid: 8,
    dailyBudget: 25,
    pacing: 'even',
    ...campaign,
  });
}

function winnerFactory(slot: number, ad: CatalogAd, overrides: Partial<AuctionWinner> = {}): AuctionWinner {
  return {
    slot,
    adId: ad.id,
    campaignId: ad.campaign.id,
    advertiserId: ad.advertiserId,
    bidType: ad.campaign.bidType,
    bid: ad.campaign.bid,
    price: ad.campaign.bid,
    valuePerImpression: 0.01,
    pCtr: 0.02,
    pCvr: 0.1,
    ...overrides,
  };
}

describe(WinnerAdmissionService.name, () => {
  const ads = [
    adFactory(1, { bidType: 'CPM', bid: 8 }),
    adFactory(2, {
      bidType: 'CPC',
      bid: 0.5,
      timezone: 'Asia/Tokyo',
      frequencyCap: 2,
      frequencyWindowHours: 6,
    }),
    adFactory(3, { bidType: 'CPA', bid: 20, dailyBudget: 1.5 }),
  ];
  const request: AuctionRequest = {
    requestId: 'req-1',
    deadlineAt: NOW + 100,
    surface: 'home_feed',
    device: 'mobile',
    slots: 3,
    adIds: [1, 2, 3],
    userId: 'u7',
  };
  const response: AuctionResponse = {
    mechanism: 'gsp',
    winners: [
      winnerFactory(0, ads[0], { price: 6.5 }),
      winnerFactory(1, ads[1], { price: 0.4 }),
      winnerFactory(2, ads[2], { price: 12, pCtr: null, pCvr: null }),
    ],
    reservePerImpression: 0.0005,
    considered: 3,
    eligible: 3,
  };
  /** The auction again without the excluded campaigns: the rest move up a slot each. */
  const rerunnable: AuctionRun = (exclude) => ({
    ...response,
    winners: response.winners
      .filter((w) => exclude?.has(w.campaignId) !== true)
      .map((w, slot) => ({ ...w, slot })),
  });
  let reserve: jest.Mock<BudgetStore['reserve']>;
  let release: jest.Mock<BudgetStore['release']>;
  let recordServed: jest.Mock<FrequencyCapStore['recordServed']>;
  let metrics: Metrics;
  let sut: WinnerAdmissionService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    reserve = jest.fn<BudgetStore['reserve']>().mockResolvedValue([true, true, true]);
    release = jest.fn<BudgetStore['release']>().mockResolvedValue(true);
    recordServed = jest.fn<FrequencyCapStore['recordServed']>().mockResolvedValue(undefined);
    metrics = new Metrics({ service: 'auction', defaultMetrics: false });
    sut = admission({});
  });

  function admission(env: Record<string, string>): WinnerAdmissionService {
    return new WinnerAdmissionService(
      new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService(),
      { reserve, release } as unknown as BudgetStore,
      { recordServed } as unknown as FrequencyCapStore,
      { explain: (error: Error) => error.message } as unknown as BudgetRedis,
      { now: () => NOW },
      AuctionConfigSchema.parse({ BUDGET_RESERVATION_MS: '60000', FREQUENCY_CAP_DEFAULT: '10', ...env }),
      new BudgetMetrics(metrics),
    );
  }

  it('reserves every winner in one call: its billing day, expected cost and daily budget in micros', async () => {
    await sut.admit(request, () => response, NOW);

    expect(reserve).toHaveBeenCalledTimes(1);
    expect(reserve).toHaveBeenCalledWith(
      [
        // CPM 6.50: one impression costs 6.50 / 1000.
        {
          day: '2026-12-01',
          campaignId: 100,
          reservationId: 'req-1:0',
          amountMicros: 6_500,
          budgetMicros: 25_000_000,
        },
        // CPC 0.40 at pCtr 0.02, billed in Tokyo's day.
        {
          day: '2026-12-02',
          campaignId: 200,
          reservationId: 'req-1:1',
          amountMicros: 8_000,
          budgetMicros: 25_000_000,
        },
        // CPA 12 without predictions: the priors 0.01 x 0.05.
        {
          day: '2026-12-01',
          campaignId: 300,
          reservationId: 'req-1:2',
          amountMicros: 6_000,
          budgetMicros: 1_500_000,
        },
      ],
      NOW,
      60_000,
    );
  });

  it("reserves a budget-split request from its slice's store, at the slice's share of each budget", async () => {
    const sliceReserve = jest
      .fn<BudgetStore['reserve']>()
      .mockResolvedValueOnce([false, true, true])
      .mockResolvedValue([true, true]);
    const sliceRelease = jest.fn<BudgetStore['release']>().mockResolvedValue(true);
    const slice = jest.fn((_key: string) => ({ reserve: sliceReserve, release: sliceRelease }));
    const split = new WinnerAdmissionService(
      new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService(),
      { reserve, release, slice } as unknown as BudgetStore,
      { recordServed } as unknown as FrequencyCapStore,
      { explain: (error: Error) => error.message } as unknown as BudgetRedis,
      { now: () => NOW },
      AuctionConfigSchema.parse({ BUDGET_RESERVATION_MS: '60000', FREQUENCY_CAP_DEFAULT: '10' }),
      new BudgetMetrics(metrics),
    );

    await split.admit({ ...request, budgetSlice: { key: 'load:ads/more', share: 0.36 } }, rerunnable, NOW);

    expect(slice.mock.calls.map(([key]) => key)).toEqual(['load:ads/more']);
    expect(reserve).not.toHaveBeenCalled();
    // 36% of 25 USD and of 1.50 USD, in micros rounded down.
    expect(sliceReserve.mock.calls[0][0].map((item) => item.budgetMicros)).toEqual([
      9_000_000, 9_000_000, 540_000,
    ]);
    // The rerun gives back the slice's reservations to the slice.
    expect(sliceRelease.mock.calls.map(([, campaignId]) => campaignId)).toEqual([200, 300]);
    expect(release).not.toHaveBeenCalled();
  });

  it('reserves on the funnel clock when given no time', async () => {
    await sut.admit(request, () => response);

    expect(reserve.mock.calls[0][1]).toBe(NOW);
    expect(reserve.mock.calls[0][0].map((item) => item.day)).toEqual([
      '2026-12-01',
      '2026-12-02',
      '2026-12-01',
    ]);
  });

  it('with reruns off, drops the winners the budget refused, leaving their slots empty, and counts them', async () => {
    reserve.mockResolvedValue([false, true, false]);

    const admitted = await admission({ AUCTION_BUDGET_RERUNS: '0' }).admit(request, rerunnable, NOW);

    expect(admitted.winners).toEqual([response.winners[1]]);
    expect(admitted).toMatchObject({ budgetDropped: 2, budgetReruns: 0 });
    expect(admitted).toMatchObject({ mechanism: 'gsp', considered: 3, eligible: 3 });
    expect(release).not.toHaveBeenCalled();
  });

  it('reruns the auction without a refused campaign, after giving back the others’ reservations', async () => {
    reserve.mockResolvedValueOnce([false, true, true]).mockResolvedValueOnce([true, true]);
    const auction = jest.fn(rerunnable);

    const admitted = await sut.admit(request, auction, NOW);

    expect(auction.mock.calls.map(([exclude]) => exclude && [...exclude])).toEqual([undefined, [100]]);
    expect(release.mock.calls).toEqual([
      ['2026-12-02', 200, 'req-1:1'],
      ['2026-12-01', 300, 'req-1:2'],
    ]);
    // The rerun's winners hold reservations of their new slots.
    expect(reserve.mock.calls[1][0].map((item) => [item.campaignId, item.reservationId])).toEqual([
      [200, 'req-1:0'],
      [300, 'req-1:1'],
    ]);
    expect(admitted.winners.map((w) => [w.slot, w.campaignId])).toEqual([
      [0, 200],
      [1, 300],
    ]);
    expect(admitted).toMatchObject({ budgetDropped: 1, budgetReruns: 1 });
    // Only the served winners count against the user's caps, once.
    expect(recordServed).toHaveBeenCalledTimes(1);
    expect(recordServed.mock.calls[0][1].map((c) => c.campaignId)).toEqual([200, 300]);
  });

  it('counts on /metrics the reservations kept, refused and given back, the USD kept and the reruns', async () => {
    reserve.mockResolvedValueOnce([false, true, true]).mockResolvedValueOnce([true, true]);
    const first = await sut.admit(request, rerunnable, NOW);
    reserve.mockRejectedValueOnce(new Error('Connection is closed.'));
    await sut.admit(request, () => response, NOW).catch(() => undefined);

    const text = await metrics.scrape();
    const reservations = (outcome: string) =>
      metricValue(text, 'adfunnel_auction_budget_reservations_total', { outcome });
    expect([reservations('admitted'), reservations('refused'), reservations('released')]).toEqual([2, 1, 2]);
    expect(metricValue(text, 'adfunnel_auction_budget_reruns_total')).toBe(1);
    expect(metricValue(text, 'adfunnel_auction_budget_unavailable_total')).toBe(1);
    const kept = reserve.mock.calls[1][0].reduce((sum, item) => sum + item.amountMicros, 0);
    expect(first.winners).toHaveLength(2);
    expect(metricValue(text, 'adfunnel_auction_budget_reserved_usd_total')).toBeCloseTo(kept / 1e6, 9);
  });

  it('serves what the last allowed rerun admitted, with its gaps', async () => {
    // Every run's first winner is refused.
    reserve.mockImplementation((items) => Promise.resolve(items.map((_, i) => i !== 0)));

    const admitted = await sut.admit(request, rerunnable, NOW);

    // Runs: [100, 200, 300] -> [200, 300] -> [300]; the third, the second rerun, is the last.
    expect(reserve).toHaveBeenCalledTimes(3);
    expect(admitted.winners).toEqual([]);
    expect(admitted).toMatchObject({ budgetDropped: 3, budgetReruns: 2 });
  });

  it('serves nothing when a reservation cannot be given back for the rerun, and says why', async () => {
    reserve.mockResolvedValue([false, true, true]);
    release.mockRejectedValue(new Error('Command timed out'));

    await expect(sut.admit(request, rerunnable, NOW)).rejects.toThrow(
      new AdfunnelError(
        'unavailable',
        'budget state unavailable while rerunning the auction: Command timed out',
      ),
    );
    expect(recordServed).not.toHaveBeenCalled();
  });

  it("counts the admitted winners against the user's caps, each in its campaign's window, and in its exposure", async () => {
    reserve.mockResolvedValue([true, true, false]);

    await sut.admit(request, rerunnable, NOW);

    expect(recordServed).toHaveBeenCalledWith(
      'u7',
      [
        { campaignId: 100, windowHours: 24 },
        { campaignId: 200, windowHours: 6 },
      ],
      NOW,
      { ads: 2, halfLifeMs: 3 * 3_600_000 },
    );
  });

  it('counts nothing without a user id', async () => {
    await sut.admit({ ...request, userId: undefined }, () => response, NOW);
    expect(recordServed).not.toHaveBeenCalled();
  });

  it('answers without waiting for the frequency count, and a failed count fails nothing', async () => {
    recordServed.mockReturnValue(new Promise(() => undefined));
    await expect(sut.admit(request, () => response, NOW)).resolves.toMatchObject({ budgetDropped: 0 });

    recordServed.mockRejectedValue(new Error('Command timed out'));
    await expect(sut.admit(request, () => response, NOW)).resolves.toMatchObject({ budgetDropped: 0 });
  });

  it('serves nothing when the budget state cannot be reached, and says why', async () => {
    reserve.mockRejectedValue(new Error('Redis unreachable: connect ECONNREFUSED 127.0.0.1:6379'));

    await expect(sut.admit(request, () => response, NOW)).rejects.toThrow(
      new AdfunnelError(
        'unavailable',
        'budget state unavailable, no winner could be reserved: Redis unreachable: connect ECONNREFUSED 127.0.0.1:6379',
      ),
    );
    expect(recordServed).not.toHaveBeenCalled();
  });

  it('calls nobody for an auction without winners', async () => {
    expect(await sut.admit(request, () => ({ ...response, winners: [] }), NOW)).toMatchObject({
      winners: [],
      budgetDropped: 0,
    });
    expect(reserve).not.toHaveBeenCalled();
  });
});
