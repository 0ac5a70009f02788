import { beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { BudgetRedis, FrequencyCapStore } from '@adfunnel/budget';
import type { CatalogAd } from '@adfunnel/catalog';
import { FakeCatalogSnapshots, catalogAds, catalogSnapshot } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { RetrievalConfigSchema } from '../config.js';
import type { ExhaustedCampaignsService } from './exhausted-campaigns.service.js';
import { ServingExclusionsService } from './serving-exclusions.service.js';

const NOW = Date.UTC(2026, 11, 1, 12);

describe(ServingExclusionsService.name, () => {
  let ads: CatalogAd[];
  let exhausted: ReadonlySet<number>;
  let cappedCampaigns: jest.Mock<FrequencyCapStore['cappedCampaigns']>;
  let warn: jest.SpiedFunction<Logger['warn']>;

  const sutFactory = (env: Record<string, string> = {}, snapshotAds = ads) =>
    new ServingExclusionsService(
      new FakeCatalogSnapshots(catalogSnapshot('cat-1', snapshotAds)).asService(),
      { current: () => exhausted } as ExhaustedCampaignsService,
      { cappedCampaigns } as unknown as FrequencyCapStore,
      { explain: (error: Error) => error.message } as unknown as BudgetRedis,
      { now: () => NOW },
      RetrievalConfigSchema.parse(env),
    );

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    ads = catalogAds();
    exhausted = new Set([1, 2]);
    cappedCampaigns = jest.fn<FrequencyCapStore['cappedCampaigns']>().mockResolvedValue(new Set([3]));
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  it('leaves out the exhausted campaigns and those the user has reached the cap of', async () => {
    const sut = sutFactory();
    expect(await sut.forRequest('req-1', 'u1', NOW)).toEqual(new Set([1, 2, 3]));
    expect(cappedCampaigns).toHaveBeenCalledWith('u1', expect.any(Map), NOW);
  });

  it('caps each active campaign at its own cap, or the default for the rest', async () => {
    const active = [
      ...new Set(ads.filter((ad) => ad.campaign.status === 'active').map((ad) => ad.campaign.id)),
    ];
    const [own, other] = active;
    const withOwnCap = ads.map((ad) => ({
      ...ad,
      campaign: {
        ...ad.campaign,
        frequencyCap: ad.campaign.id === own ? 2 : null,
        frequencyWindowHours: ad.campaign.id === own ? 6 : null,
      },
    }));
    const sut = sutFactory({ FREQUENCY_CAP_DEFAULT: '4', FREQUENCY_WINDOW_HOURS_DEFAULT: '12' }, withOwnCap);

    await sut.forRequest('req-1', 'u1', NOW);

    const caps = cappedCampaigns.mock.calls[0][1];
    expect(new Set(caps.keys())).toEqual(new Set(active));
    expect(caps.get(own)).toEqual({ max: 2, windowHours: 6 });
    expect(caps.get(other)).toEqual({ max: 4, windowHours: 12 });
  });

  it('counts cap windows on the funnel clock when given no time', async () => {
    const sut = sutFactory();
    await sut.forRequest('req-1', 'u1');

    expect(cappedCampaigns.mock.calls[0][2]).toBe(NOW);
  });

  it('does not read Redis when no campaign is capped', async () => {
    const uncapped = ads.map((ad) => ({ ...ad, campaign: { ...ad.campaign, frequencyCap: null } }));
    const sut = sutFactory({ FREQUENCY_CAP_DEFAULT: '0' }, uncapped);
    expect(await sut.forRequest('req-1', 'u1', NOW)).toBe(exhausted);
    expect(cappedCampaigns).not.toHaveBeenCalled();
  });

  it('serves without caps when Redis fails, warning once per ten seconds rather than per request', async () => {
    cappedCampaigns.mockRejectedValue(new Error('Command timed out'));
    const sut = sutFactory();

    expect(await sut.forRequest('req-1', 'u1', NOW)).toEqual(new Set([1, 2]));
    await sut.forRequest('req-2', 'u1', NOW + 5_000);
    await sut.forRequest('req-3', 'u1', NOW + 10_000);

    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ requestId: 'req-1', userId: 'u1', error: 'Command timed out' }),
    );
  });
});
