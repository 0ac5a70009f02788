import type { CatalogAd, CatalogSnapshot, CatalogSnapshotService } from '@adfunnel/catalog';
import { type MarketplaceSpec, adAt, campaignAt } from '@adfunnel/simulator';

export const SMALL_MARKETPLACE: MarketplaceSpec = {
  seed: 5,
  advertisers: 20,
  campaignsPerAdvertiser: 2,
  ads: 300,
  users: 20,
};

/** The catalog's view of a simulated marketplace, as CatalogReader would load it after a seed. */
export function catalogAds(spec: MarketplaceSpec = SMALL_MARKETPLACE): CatalogAd[] {
  return Array.from({ length: spec.ads }, (_, i) => {
    const ad = adAt(spec, i);
    const campaign = campaignAt(spec, ad.campaignId - 1);
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
      campaign: { ...campaign, targetDevices: [...campaign.targetDevices] },
    };
  });
}

/** Stands in for CatalogSnapshotService with a fixed snapshot. */
export function catalogSnapshots(
  version = 'cat-test',
  ads: CatalogAd[] = catalogAds(),
): CatalogSnapshotService {
  const snapshot: CatalogSnapshot = {
    version,
    loadedAt: Date.now(),
    ads,
    byId: new Map(ads.map((ad) => [ad.id, ad])),
  };
  return { snapshot: () => snapshot } as Pick<CatalogSnapshotService, 'snapshot'> as CatalogSnapshotService;
}
