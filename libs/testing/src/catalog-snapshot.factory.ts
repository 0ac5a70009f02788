import type { CatalogAd, CatalogSnapshot } from '@adfunnel/catalog';
import { simulatedCatalogAds } from '@adfunnel/catalog-seed';
import type { MarketplaceSpec } from '@adfunnel/simulator';

/** A small simulated marketplace: real targeting mixes, statuses and bids, quick to index. */
export const SMALL_MARKETPLACE: MarketplaceSpec = {
  seed: 5,
  advertisers: 40,
  campaignsPerAdvertiser: 3,
  ads: 1500,
  users: 100,
};

export function catalogAds(spec: MarketplaceSpec = SMALL_MARKETPLACE): CatalogAd[] {
  return simulatedCatalogAds(spec);
}

export function catalogSnapshot(version: string, ads: CatalogAd[] = catalogAds()): CatalogSnapshot {
  return { version, loadedAt: Date.now(), ads, byId: new Map(ads.map((ad) => [ad.id, ad])) };
}
