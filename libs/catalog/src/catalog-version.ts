import { createHash } from 'node:crypto';
import type { CatalogAd } from './catalog-ad.js';

/** A content hash of everything serving reads from the ads, so an unchanged catalog keeps its version. */
export function catalogVersion(ads: readonly CatalogAd[]): string {
  const version = new CatalogVersionHash();
  for (const ad of ads) version.add(ad);
  return version.digest();
}

/** catalogVersion ad by ad, for a catalog read in pages: the same ads in the same order give the same version. */
export class CatalogVersionHash {
  private readonly hash = createHash('sha256');
  private count = 0;

  add(ad: CatalogAd): void {
    const hash = this.hash;
    this.count++;
    const c = ad.campaign;
    hash.update(
      `${ad.id}\u0001${ad.campaignId}\u0001${ad.advertiserId}\u0001${ad.status}\u0001${ad.category}\u0001${ad.title}\u0001` +
        `${ad.text}\u0001${ad.imageUrl}\u0001${ad.landingUrl}\u0001${c.status}\u0001${c.bidType}\u0001${c.bid}\u0001` +
        `${c.dailyBudget}\u0001${c.targetCountries.join(',')}\u0001${c.targetDevices.join(',')}\u0001${c.timezone}\u0001` +
        `${c.clickWindowDays}\u0001${c.pacing}\u0001${c.frequencyCap ?? ''}\u0001${c.frequencyWindowHours ?? ''}\u0001${c.reserveCpm ?? ''}\u0002`,
    );
    hash.update(new Uint8Array(ad.embedding.buffer, ad.embedding.byteOffset, ad.embedding.byteLength));
  }

  digest(): string {
    return `cat-${this.count}-${this.hash.digest('hex').slice(0, 16)}`;
  }
}
