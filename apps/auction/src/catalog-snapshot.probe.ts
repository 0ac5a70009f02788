import { CatalogSnapshotService } from '@adfunnel/catalog';
import { type HealthProbe, RegisterHealthProbe } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';

/** Bids come from the in-memory catalog: the service is only useful once a snapshot is loaded. */
@Injectable()
@RegisterHealthProbe()
export class CatalogSnapshotProbe implements HealthProbe {
  readonly name = 'catalog';

  constructor(private readonly catalog: CatalogSnapshotService) {}

  check(): Promise<Record<string, unknown>> {
    const snapshot = this.catalog.snapshot();
    return Promise.resolve({
      version: snapshot.version,
      ads: snapshot.ads.length,
      loadedAt: snapshot.loadedAt,
    });
  }
}
