import type { CatalogAd, CatalogCampaign } from '@adfunnel/catalog';

/**
 * Ad `id` of `campaign`, which names its id, advertiser and bid; the rest of the campaign is an
 * active, untargeted CPM campaign with a 100 USD daily budget, and the ad a blank electronics
 * creative with no embedding, unless `overrides` say otherwise.
 */
export function catalogAdFactory(
  id: number,
  campaign: Partial<CatalogCampaign> & Pick<CatalogCampaign, 'id' | 'advertiserId' | 'bid'>,
  overrides: Partial<Omit<CatalogAd, 'campaign' | 'campaignId' | 'advertiserId'>> = {},
): CatalogAd {
  return {
    id,
    campaignId: campaign.id,
    advertiserId: campaign.advertiserId,
    title: `ad ${id}`,
    text: '',
    imageUrl: '',
    landingUrl: '',
    category: 'electronics',
    // libs/features TOPICS: electronics is topic 1 (0 is fashion).
    categoryIndex: 1,
    status: 'active',
    embedding: new Float32Array(0),
    ...overrides,
    campaign: {
      status: 'active',
      bidType: 'CPM',
      dailyBudget: 100,
      targetCountries: [],
      targetDevices: [],
      timezone: 'UTC',
      clickWindowDays: 7,
      pacing: 'asap',
      frequencyCap: null,
      frequencyWindowHours: null,
      ...campaign,
    },
  };
}
