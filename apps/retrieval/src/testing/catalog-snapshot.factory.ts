import type { CatalogAd, CatalogSnapshot } from '@adfunnel/catalog';
import { adAt, campaignAt, campaignCount, type MarketplaceSpec } from '@adfunnel/simulator';

/** A small simulated marketplace: real targeting mixes, statuses and bids, quick to index. */
export const SMALL_MARKETPLACE: MarketplaceSpec = {
  seed: 5,
  advertisers: 40,
  campaignsPerAdvertiser: 3,
  ads: 1500,
  users: 100,
};

/** The catalog's view of a simulated marketplace, as CatalogReader would load it after a seed. */
export function catalogAds(spec: MarketplaceSpec = SMALL_MARKETPLACE): CatalogAd[] {
  const campaigns = Array.from({ length: campaignCount(spec) }, (_, i) => campaignAt(spec, i));
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
        targetCountries: campaign.targetCountries,
        targetDevices: campaign.targetDevices,
      },
    };
  });
}

export function catalogSnapshot(version: string, ads: CatalogAd[] = catalogAds()): CatalogSnapshot {
  return { version, loadedAt: Date.now(), ads, byId: new Map(ads.map((ad) => [ad.id, ad])) };
}
