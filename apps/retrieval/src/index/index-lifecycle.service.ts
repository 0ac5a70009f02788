import { AdIndex, type AdIndexOptions } from '@adfunnel/ad-index';
import { CatalogSnapshotService, type CatalogSnapshot } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';
import { InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { RetrievalConfig } from '../config.js';
import { CandidateCatalog } from '../sources/candidate-catalog.js';

export interface IndexBuildFailure {
  readonly catalogVersion: string;
  readonly message: string;
  readonly at: string;
}

/**
 * Owns the live AdIndex and the CandidateCatalog built beside it from the same snapshot (lexical
 * index, embeddings by ad, ads by advertiser): builds both at startup and again whenever the
 * catalog version changes. A new index is built aside while the old one keeps serving, then swapped
 * in with one assignment; a failed rebuild keeps the old index and is reported by the health probe.
 */
@Injectable()
export class IndexLifecycleService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IndexLifecycleService.name);
  private readonly options: Omit<AdIndexOptions, 'catalogVersion'>;
  private index: AdIndex | undefined;
  private candidateCatalog: CandidateCatalog | undefined;
  /** Newest snapshot not yet indexed; a change during a build waits here, intermediate ones are skipped. */
  private pending: CatalogSnapshot | undefined;
  private building: Promise<void> | undefined;
  private failure: IndexBuildFailure | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    @InjectConfig() config: RetrievalConfig,
  ) {
    this.options = { efSearch: config.RETRIEVAL_EF_SEARCH, exactThreshold: config.RETRIEVAL_EXACT_THRESHOLD };
  }

  /** After every module's init, so the catalog's first snapshot is loaded; the app listens only once this resolves. */
  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.catalog.onChange((snapshot) => {
      void this.rebuild(snapshot);
    });
    await this.rebuild(this.catalog.snapshot());
    if (this.index === undefined) {
      throw new Error(`cannot build the ad index: ${this.failure?.message ?? 'unknown error'}`);
    }
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.pending = undefined;
  }

  /** The index in service; AdfunnelError('not_ready') until the first build has finished. */
  current(): AdIndex {
    if (this.index === undefined) throw new AdfunnelError('not_ready', 'the ad index is not built yet');
    return this.index;
  }

  /** The candidate catalog of the index in service, swapped in with it; AdfunnelError('not_ready') like current(). */
  candidates(): CandidateCatalog {
    if (this.candidateCatalog === undefined) {
      throw new AdfunnelError('not_ready', 'the ad index is not built yet');
    }
    return this.candidateCatalog;
  }

  /** For health: the index in service (if any) and the last failed rebuild since it was swapped in. */
  status(): { index: AdIndex | undefined; building: boolean; lastFailure: IndexBuildFailure | undefined } {
    return { index: this.index, building: this.building !== undefined, lastFailure: this.failure };
  }

  /** Indexes `snapshot` (or a newer one that arrives meanwhile); resolves when no build is pending. Never rejects. */
  rebuild(snapshot: CatalogSnapshot): Promise<void> {
    this.pending = snapshot;
    this.building ??= this.drain().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private async drain(): Promise<void> {
    for (let next = this.takePending(); next !== undefined; next = this.takePending()) {
      const previous = this.index;
      try {
        const built = await AdIndex.buildInSlices(next.ads, {
          ...this.options,
          catalogVersion: next.version,
        });
        const candidates = CandidateCatalog.build(built, next.ads);
        // One synchronous step: a request sees the old pair or the new one, never a mix.
        this.index = built;
        this.candidateCatalog = candidates;
        this.failure = undefined;
        this.logger.log(
          `ad index ${built.version} in service: ${built.size} of ${next.ads.length} ads servable, ` +
            `${built.buckets} targeting buckets, built in ${built.buildMs.toFixed(0)} ms` +
            (previous === undefined ? '' : `, replacing ${previous.version}`),
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.failure = { catalogVersion: next.version, message, at: new Date().toISOString() };
        this.logger.error(
          `ad index build for catalog ${next.version} failed, ` +
            `${previous === undefined ? 'no index to serve' : `keeping ${previous.version}`}: ${message}`,
          error instanceof Error ? error.stack : undefined,
        );
      }
    }
  }

  private takePending(): CatalogSnapshot | undefined {
    const next = this.pending;
    this.pending = undefined;
    if (next === undefined || next.version === this.index?.catalogVersion) return undefined;
    return next;
  }
}
