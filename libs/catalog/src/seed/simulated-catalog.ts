import { type MarketplaceSpec, adAt, campaignAt, campaignCount } from '@adfunnel/simulator';
import type { CatalogAd, CatalogSnapshot } from '../catalog-ad.js';

/**
 * The catalog's view of a simulated marketplace: what `CatalogReader.loadAds` returns after
 * `seedCatalog(ds, spec)`, built in memory (tests, and runs that need no database).
 */
export function simulatedCatalogAds(spec: MarketplaceSpec): CatalogAd[] {
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
        targetCountries: [...campaign.targetCountries],
        targetDevices: [...campaign.targetDevices],
      },
    };
  });
}

/** A snapshot of the given ads, as `CatalogSnapshotService.snapshot()` serves it. */
export function catalogSnapshotOf(version: string, ads: CatalogAd[]): CatalogSnapshot {
  return { version, loadedAt: Date.now(), ads, byId: new Map(ads.map((ad) => [ad.id, ad])) };
}
