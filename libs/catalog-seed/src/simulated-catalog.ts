import type { CatalogAd } from '@adfunnel/catalog';
import { type MarketplaceSpec, adAt, campaignAt, campaignCount } from '@adfunnel/simulator';
import { seededAdvertiserTimeZone, seededCampaignSettings } from './account-settings.js';

/**
 * The catalog's view of a simulated marketplace: what `CatalogReader.loadAds` returns after
 * `seedCatalog(ds, spec)`, built in memory (tests, and runs that need no database).
 */
export function simulatedCatalogAds(spec: MarketplaceSpec): CatalogAd[] {
  const campaigns = Array.from({ length: campaignCount(spec) }, (_, i) => ({
    ...campaignAt(spec, i),
    ...seededCampaignSettings(spec, i),
  }));
  const timeZones = Array.from({ length: spec.advertisers }, (_, i) => seededAdvertiserTimeZone(spec, i));
  return Array.from({ length: spec.ads }, (_, i) => {
    const ad = adAt(spec, i);
    const campaign = campaigns[ad.campaignId - 1];
    return {
      id: ad.id,
      campaignId: ad.campaignId,
      advertiserId: ad.advertiserId,
      title: ad.title,
      text: ad.text,
      imageUrl: ad.imageUrl,
      landingUrl: ad.landingUrl,
      category: ad.category,
      categoryIndex: ad.categoryIndex,
      status: 'active',
      embedding: ad.embedding,
      campaign: {
        id: campaign.id,
        advertiserId: campaign.advertiserId,
        status: campaign.status,
        bidType: campaign.bidType,
        bid: campaign.bid,
        dailyBudget: campaign.dailyBudget,
        targetCountries: [...campaign.targetCountries],
        targetDevices: [...campaign.targetDevices],
        timezone: timeZones[campaign.advertiserId - 1],
        clickWindowDays: campaign.clickWindowDays,
        pacing: campaign.pacing,
        frequencyCap: campaign.frequencyCap,
        frequencyWindowHours: campaign.frequencyWindowHours,
        // The demo marketplace sets no campaign its own reserve: the surface's applies.
        reserveCpm: null,
      },
    };
  });
}
