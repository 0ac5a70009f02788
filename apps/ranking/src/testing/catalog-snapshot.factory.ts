import {
  type CatalogAd,
  type CatalogSnapshotService,
  catalogSnapshotOf,
  simulatedCatalogAds,
} from '@adfunnel/catalog';
import type { MarketplaceSpec } from '@adfunnel/simulator';

export const SMALL_MARKETPLACE: MarketplaceSpec = {
  seed: 5,
  advertisers: 20,
  campaignsPerAdvertiser: 2,
  ads: 300,
  users: 20,
};

export function catalogAds(spec: MarketplaceSpec = SMALL_MARKETPLACE): CatalogAd[] {
  return simulatedCatalogAds(spec);
}

/** Stands in for CatalogSnapshotService with a fixed snapshot. */
export function catalogSnapshots(
  version = 'cat-test',
  ads: CatalogAd[] = catalogAds(),
): CatalogSnapshotService {
  const snapshot = catalogSnapshotOf(version, ads);
  return { snapshot: () => snapshot } as Pick<CatalogSnapshotService, 'snapshot'> as CatalogSnapshotService;
}
