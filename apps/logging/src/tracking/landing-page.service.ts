import { AdfunnelError } from '@adfunnel/contracts';
import { CatalogReader, CatalogSnapshotService } from '@adfunnel/catalog';
import { Injectable, Logger } from '@nestjs/common';

const MAX_CACHED_MISSES = 10_000;

/**
 * Where a click on an ad goes. The URL comes only from the catalog, never from the request, so a
 * tracking link cannot be turned into an open redirect.
 */
@Injectable()
export class LandingPageService {
  private readonly logger = new Logger(LandingPageService.name);
  /** Ads created after the last snapshot, looked up once each; the next snapshot carries them. */
  private readonly newerThanSnapshot = new Map<number, string>();
  private snapshotVersion: string | undefined;

  constructor(
    private readonly snapshots: CatalogSnapshotService,
    private readonly reader: CatalogReader,
  ) {}

  async landingUrlOf(adId: number): Promise<string> {
    const snapshot = this.snapshots.snapshot();
    const fromSnapshot = snapshot.byId.get(adId);
    if (fromSnapshot !== undefined) return checkedLandingUrl(adId, fromSnapshot.landingUrl);
    if (snapshot.version !== this.snapshotVersion) {
      this.newerThanSnapshot.clear();
      this.snapshotVersion = snapshot.version;
    }
    const cached = this.newerThanSnapshot.get(adId);
    if (cached !== undefined) return cached;

    const ad = await this.reader.findAd(adId);
    if (ad === null || ad === undefined) {
      throw new AdfunnelError('not_found', `ad ${adId} is not in the catalog`);
    }
    const url = checkedLandingUrl(adId, ad.landingUrl);
    if (this.newerThanSnapshot.size >= MAX_CACHED_MISSES) this.newerThanSnapshot.clear();
    this.newerThanSnapshot.set(adId, url);
    this.logger.log(`ad ${adId} is newer than the catalog snapshot; landing URL read from the database`);
    return url;
  }
}

function checkedLandingUrl(adId: number, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AdfunnelError(
      'internal',
      `ad ${adId} has a landing URL that is not absolute: ${JSON.stringify(url)}`,
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new AdfunnelError('internal', `ad ${adId} has a landing URL that is not http(s)`);
  }
  return url;
}
