import type { AdIndex } from '@adfunnel/ad-index';
import { CatalogSnapshotService, type CatalogSnapshot } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from '@adfunnel/features';
import { InjectConfig } from '@adfunnel/platform';
import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { RetrievalConfig } from '../config.js';
import { CandidateCatalog } from '../sources/candidate-catalog.js';
import { indexLifecycleSettings } from './index-lifecycle.config.js';
import { type IndexBuildFailure, IndexKeeper, type IndexKeeperStatus } from './index-keeper.js';
import { IndexStore } from './index-store.js';

export type { IndexBuildFailure } from './index-keeper.js';

/**
 * The embedding version of the content index: its vectors are the catalog's own (visual) embeddings
 * scaled to unit length, so the version names that source and its dimension. A saved content index
 * of another version is rebuilt, never loaded; change this when the vectors come from elsewhere.
 */
export const CONTENT_EMBEDDING_VERSION = `catalog-embedding/${EMBEDDING_DIM}d/unit-v1`;

/**
 * Owns the live content AdIndex and the CandidateCatalog built beside it from the same snapshot
 * (lexical index, embeddings by ad, ads by advertiser). At start it loads the index saved in the
 * IndexStore (when one is given and the save is of this embedding version and layout) and applies
 * what the catalog changed since, or builds and saves one; then it follows the catalog through an
 * IndexKeeper: a small change in place, a large one built aside, soft deletes compacted away, the
 * index saved after changes. The candidate catalog is built aside for every change, in slices, and
 * swapped in in the same synchronous step as the index change, so a request sees the old pair or the new one.
 */
@Injectable()
export class IndexLifecycleService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IndexLifecycleService.name);
  private readonly keeper: IndexKeeper<CandidateCatalog>;
  private index: AdIndex | undefined;
  private candidateCatalog: CandidateCatalog | undefined;
  private startFailure: IndexBuildFailure | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    @InjectConfig() config: RetrievalConfig,
    @Optional() store?: IndexStore,
  ) {
    this.keeper = new IndexKeeper(
      {
        name: 'content',
        index: {
          efSearch: config.RETRIEVAL_EF_SEARCH,
          exactThreshold: config.RETRIEVAL_EXACT_THRESHOLD,
          embeddingVersion: CONTENT_EMBEDDING_VERSION,
        },
        dir: store?.dirFor('content'),
        settings: indexLifecycleSettings(config),
        logger: this.logger,
      },
      {
        ads: (snapshot) => Promise.resolve(snapshot.ads),
        companion: (index, snapshot) => CandidateCatalog.buildInSlices(index, snapshot.ads),
        install: (index, companion) => {
          this.index = index;
          this.candidateCatalog = companion;
        },
      },
    );
  }

  /** After every module's init, so the catalog's first snapshot is loaded; the app listens only once this resolves. */
  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.catalog.onChange((snapshot) => {
      void this.keeper.follow(snapshot);
    });
    const snapshot = this.catalog.snapshot();
    try {
      const { index, companion } = await this.keeper.start(snapshot);
      this.index = index;
      this.candidateCatalog = companion;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.startFailure = { catalogVersion: snapshot.version, message, at: new Date().toISOString() };
      throw new Error(`cannot build the ad index: ${message}`, { cause: error });
    }
  }

  /** Stops following the catalog, then saves unsaved changes. */
  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.keeper.stop();
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

  /** For health: the index in service (if any), whether a change is being worked on, the last failed one, and the lifecycle. */
  status(): {
    index: AdIndex | undefined;
    building: boolean;
    lastFailure: IndexBuildFailure | undefined;
    lifecycle: IndexKeeperStatus;
  } {
    const lifecycle = this.keeper.status();
    return {
      index: this.index,
      building: lifecycle.busy,
      lastFailure: lifecycle.lastFailure ?? this.startFailure,
      lifecycle,
    };
  }

  /**
   * Brings the index to `snapshot` (or a newer one that arrives meanwhile): in place when the change
   * is small, built aside otherwise. Resolves when no change is pending; never rejects.
   */
  follow(snapshot: CatalogSnapshot): Promise<void> {
    return this.keeper.follow(snapshot);
  }

  /** follow() under its former name. */
  rebuild(snapshot: CatalogSnapshot): Promise<void> {
    return this.follow(snapshot);
  }

  /** Resolves once saves and compactions queued so far have run. */
  idle(): Promise<void> {
    return this.keeper.idle();
  }

  /** Compacts the index now (rebuilds it without soft-deleted points) and swaps it in. */
  compact(): Promise<void> {
    return this.keeper.compactNow();
  }
}
