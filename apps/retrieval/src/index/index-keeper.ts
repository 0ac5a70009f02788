import {
  AdIndex,
  type AdIndexOptions,
  type IndexableAd,
  type LoadExpectation,
  SavedIndexError,
} from '@adfunnel/ad-index';
import type { CatalogSnapshot } from '@adfunnel/catalog';
import type { Logger } from '@nestjs/common';
import type { IndexLifecycleConfig } from './index-lifecycle.config.js';
import { loadIndex, saveIndex } from './saved-index.js';

export interface IndexBuildFailure {
  readonly catalogVersion: string;
  readonly message: string;
  readonly at: string;
}

/** How the index in service got there at start: read from disk (then brought to the catalog) or built. */
export interface IndexStartup {
  readonly how: 'loaded' | 'built';
  /** From start() to an index of the current catalog. */
  readonly ms: number;
  /** Reading the saved index (loaded), or why none was used (built), e.g. a mismatch naming what differs. */
  readonly loadMs?: number;
  readonly why?: string;
  /** What the catalog had changed since the save, applied at start. */
  readonly applied?: { readonly added: number; readonly updated: number; readonly removed: number };
}

/** The last change to the index in service: applied in place, built aside (too many changes), or compacted. */
export interface IndexChange {
  readonly how: 'applied' | 'rebuilt' | 'compacted';
  readonly catalogVersion: string;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  /** Points purged (compacted). */
  readonly purged?: number;
  readonly ms: number;
  readonly at: string;
}

export interface IndexSave {
  readonly dir: string;
  readonly bytes: number;
  readonly ms: number;
  readonly at: string;
}

export interface IndexKeeperStatus {
  readonly dir: string | undefined;
  readonly startup: IndexStartup | undefined;
  readonly lastChange: IndexChange | undefined;
  readonly lastSave: IndexSave | undefined;
  readonly saveFailure: { readonly message: string; readonly at: string } | undefined;
  /** The last catalog change that could not be indexed (the index in service stays as it was). */
  readonly lastFailure: IndexBuildFailure | undefined;
  readonly busy: boolean;
}

/** What one kind of index (content, a tower model's) adds to the common lifecycle. */
export interface IndexKeeperHooks<C> {
  /** The ads to index for a snapshot, as AdIndex reads them: the catalog's, or with a tower's vectors. */
  ads(snapshot: CatalogSnapshot): Promise<readonly IndexableAd[]>;
  /** After a saved index is read, before it is brought to the catalog (a tower reuses its vectors). */
  loaded?(index: AdIndex): void;
  /** What serves beside the index, built (off the request path, in slices) before each swap or in-place change. */
  companion(index: AdIndex, snapshot: CatalogSnapshot): C | Promise<C>;
  /** Called in the same synchronous step as an in-place change or a swap: `index` and `companion` now serve. */
  install(index: AdIndex, companion: C, snapshot: CatalogSnapshot): void;
}

export interface IndexKeeperOptions {
  readonly name: string;
  /** Build options (catalog version aside); `embeddingVersion` is part of the saved index's identity. */
  readonly index: Omit<AdIndexOptions, 'catalogVersion'> & { readonly embeddingVersion: string };
  /** Where the index is saved and loaded; undefined: neither. */
  readonly dir: string | undefined;
  readonly settings: IndexLifecycleConfig;
  readonly logger: Logger;
}

/**
 * The lifecycle of one ad index, shared by the content index and each two-tower model's: at start
 * it loads the saved index (if its embedding version and layout are the expected ones) and applies
 * what the catalog changed since, or builds and saves one; then it follows the catalog, applying a
 * small change in place (new vectors inserted in slices, unlisted, then one synchronous switch, so a
 * request sees the old state or the new) and building one of many new vectors aside; saves a changed index once changes pause; and compacts away soft
 * deletes past RETRIEVAL_INDEX_MAX_DELETED_SHARE, and every RETRIEVAL_INDEX_COMPACT_MS. All of it
 * runs one task at a time off the request path; a failure keeps the index in service as it was.
 */
export class IndexKeeper<C> {
  private index: AdIndex | undefined;
  private snapshot: CatalogSnapshot | undefined;
  /** Newest snapshot not yet indexed; versions that arrive during a change are skipped. */
  private pending: CatalogSnapshot | undefined;
  private following: Promise<void> | undefined;
  private work: Promise<void> = Promise.resolve();
  private tasks = 0;
  private saveTimer: NodeJS.Timeout | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private stopped = false;
  private startup: IndexStartup | undefined;
  private lastChange: IndexChange | undefined;
  private lastSave: IndexSave | undefined;
  private saveFailure: { message: string; at: string } | undefined;
  private failure: IndexBuildFailure | undefined;

  constructor(
    private readonly options: IndexKeeperOptions,
    private readonly hooks: IndexKeeperHooks<C>,
  ) {}

  /** The index and companion of `snapshot`, loaded or built; the caller puts them in service. Rejects when neither works. */
  start(snapshot: CatalogSnapshot): Promise<{ index: AdIndex; companion: C }> {
    const started = this.enqueue(async () => {
      const startedAt = performance.now();
      const { index, startup } = await this.loadOrBuild(snapshot, startedAt);
      this.index = index;
      this.snapshot = snapshot;
      this.startup = startup;
      const companion = await this.hooks.companion(index, snapshot);
      if (startup.how === 'built' || (startup.applied !== undefined && total(startup.applied) > 0)) {
        this.scheduleSave(0);
      }
      this.compactIfNeeded();
      const every = this.options.settings.RETRIEVAL_INDEX_COMPACT_MS;
      if (every > 0) {
        this.compactTimer = setInterval(() => {
          const current = this.index;
          if (current === undefined) return;
          const changed = current.changedSinceBuild;
          if (current.deleted > 0 || changed.updated > 0) void this.enqueue(() => this.compact());
        }, every);
        this.compactTimer.unref();
      }
      return { index, companion };
    });
    return started;
  }

  /** Brings the index to `snapshot` (or a newer one that arrives meanwhile); resolves when none is pending. Never rejects. */
  follow(snapshot: CatalogSnapshot): Promise<void> {
    this.pending = snapshot;
    this.following ??= this.enqueue(() => this.drain()).finally(() => {
      this.following = undefined;
      // A snapshot that came after the drain's last look but before this callback.
      if (this.pending !== undefined && !this.stopped) void this.follow(this.pending);
    });
    return this.following;
  }

  /** Saves now (after the tasks queued before), whatever the debounce. */
  saveNow(): Promise<void> {
    return this.enqueue(() => this.save());
  }

  /** Compacts now (after the tasks queued before), whatever the deleted share. */
  compactNow(): Promise<void> {
    return this.enqueue(() => this.compact());
  }

  /** Resolves once no task is queued or running. */
  async idle(): Promise<void> {
    while (this.tasks > 0) await this.work;
  }

  /** Stops timers and following; saves unsaved changes first (an orderly shutdown restarts without a rebuild). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    if (this.compactTimer !== undefined) clearInterval(this.compactTimer);
    this.pending = undefined;
    if (this.dirty) await this.saveNow();
    this.stopped = true;
    await this.idle();
  }

  status(): IndexKeeperStatus {
    return {
      dir: this.options.dir,
      startup: this.startup,
      lastChange: this.lastChange,
      lastSave: this.lastSave,
      saveFailure: this.saveFailure,
      lastFailure: this.failure,
      busy: this.tasks > 0,
    };
  }

  private async loadOrBuild(
    snapshot: CatalogSnapshot,
    startedAt: number,
  ): Promise<{ index: AdIndex; startup: IndexStartup }> {
    const { dir, logger, name } = this.options;
    let why = 'no index directory: not saved (RETRIEVAL_INDEX_DIR=off)';
    if (dir !== undefined) {
      try {
        const index = await loadIndex(dir, this.expectation());
        const loadMs = performance.now() - startedAt;
        this.hooks.loaded?.(index);
        const saved = index.catalogVersion;
        const changes = await index.changesInSlices(await this.hooks.ads(snapshot));
        const applied = await index.applyInSlices(changes, snapshot.version);
        logger.log(
          `${name} index loaded from ${dir} in ${loadMs.toFixed(0)} ms (catalog ${saved}); to catalog ${snapshot.version}: ` +
            `${applied.added} added, ${applied.updated} updated, ${applied.removed} removed in ${applied.ms.toFixed(0)} ms; ` +
            `${index.size} ads`,
        );
        const ms = performance.now() - startedAt;
        return { index, startup: { how: 'loaded', ms, loadMs, applied: counts(applied) } };
      } catch (error) {
        if (!(error instanceof SavedIndexError)) {
          logger.warn(`${name} index in ${dir} not used: ${(error as Error).message}`);
        } else if (error.reason !== 'absent')
          logger.warn(`${name} index not loaded, building: ${error.message}`);
        why = (error as Error).message;
      }
    }
    const ads = await this.hooks.ads(snapshot);
    const index = await AdIndex.buildInSlices(ads, {
      ...this.options.index,
      catalogVersion: snapshot.version,
    });
    logger.log(
      `${name} index ${index.version} built in ${index.buildMs.toFixed(0)} ms: ${index.size} of ${snapshot.ads.length} ads servable, ` +
        `${index.buckets} targeting buckets (${why})`,
    );
    return { index, startup: { how: 'built', ms: performance.now() - startedAt, why } };
  }

  private expectation(): LoadExpectation {
    return this.options.index;
  }

  private async drain(): Promise<void> {
    for (let next = this.takePending(); next !== undefined; next = this.takePending()) {
      await this.apply(next);
    }
  }

  private takePending(): CatalogSnapshot | undefined {
    const next = this.pending;
    this.pending = undefined;
    if (this.stopped || next === undefined || next.version === this.index?.catalogVersion) return undefined;
    return next;
  }

  /** One catalog change: in place when small, built aside when large; a failure keeps the index as it was. */
  private async apply(snapshot: CatalogSnapshot): Promise<void> {
    const index = this.index;
    if (index === undefined) return;
    const { logger, name, settings } = this.options;
    const startedAt = performance.now();
    try {
      const ads = await this.hooks.ads(snapshot);
      const changes = await index.changesInSlices(ads);
      // New points are what costs (an HNSW insertion each); removals and targeting or bid changes do not.
      const points = changes.added.length + changes.updated.filter((u) => u.vectorChanged).length;
      const inPlace =
        points <= settings.RETRIEVAL_INDEX_INCREMENTAL_MAX &&
        points <= settings.RETRIEVAL_INDEX_MAX_DELETED_SHARE * Math.max(index.size, 1);
      if (inPlace) {
        const companion = await this.hooks.companion(index, snapshot);
        if (this.stopped) return;
        let applied;
        try {
          applied = await index.applyInSlices(changes, snapshot.version);
        } catch (error) {
          // Checked data cannot fail half way, but a native error could: nothing of this index is to be trusted.
          logger.error(`${name} index failed mid-change, rebuilding: ${(error as Error).message}`);
          await this.rebuild(snapshot, ads, startedAt, { added: 0, updated: 0, removed: 0 });
          return;
        }
        this.hooks.install(index, companion, snapshot);
        this.snapshot = snapshot;
        this.failure = undefined;
        this.lastChange = {
          how: 'applied',
          catalogVersion: snapshot.version,
          ...counts(applied),
          ms: applied.ms,
          at: now(),
        };
        logger.log(
          `${name} index ${index.version}: ${applied.added} added, ${applied.updated} updated, ${applied.removed} removed ` +
            `in place in ${applied.ms.toFixed(1)} ms (${points} new points; ${index.deleted} deleted points)`,
        );
        this.scheduleSave();
        this.compactIfNeeded();
      } else {
        await this.rebuild(snapshot, ads, startedAt, {
          added: changes.added.length,
          updated: changes.updated.length,
          removed: changes.removed.length,
        });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failure = { catalogVersion: snapshot.version, message, at: now() };
      logger.error(
        `${name} index for catalog ${snapshot.version} failed, keeping ${index.version}: ${message}`,
        error instanceof Error ? error.stack : undefined,
      );
    }
  }

  private async rebuild(
    snapshot: CatalogSnapshot,
    ads: readonly IndexableAd[],
    startedAt: number,
    changed: { added: number; updated: number; removed: number },
  ): Promise<void> {
    const built = await AdIndex.buildInSlices(ads, {
      ...this.options.index,
      catalogVersion: snapshot.version,
    });
    const companion = await this.hooks.companion(built, snapshot);
    if (this.stopped) return;
    const previous = this.index;
    this.index = built;
    this.snapshot = snapshot;
    this.hooks.install(built, companion, snapshot);
    this.failure = undefined;
    const ms = performance.now() - startedAt;
    this.lastChange = { how: 'rebuilt', catalogVersion: snapshot.version, ...changed, ms, at: now() };
    this.options.logger.log(
      `${this.options.name} index ${built.version} built aside in ${built.buildMs.toFixed(0)} ms ` +
        `(${total(changed)} changes, too many new vectors to insert in place), replacing ${previous?.version ?? 'none'}`,
    );
    this.scheduleSave();
  }

  private compactIfNeeded(): void {
    const index = this.index;
    if (index?.needsCompaction(this.options.settings.RETRIEVAL_INDEX_MAX_DELETED_SHARE)) {
      void this.enqueue(() => this.compact());
    }
  }

  private async compact(): Promise<void> {
    const index = this.index;
    const snapshot = this.snapshot;
    if (index === undefined || snapshot === undefined || this.stopped) return;
    const { logger, name } = this.options;
    try {
      const purged = index.deleted;
      const compacted = await index.compact();
      const companion = await this.hooks.companion(compacted, snapshot);
      if (this.stopped) return;
      this.index = compacted;
      this.hooks.install(compacted, companion, snapshot);
      this.lastChange = {
        how: 'compacted',
        catalogVersion: compacted.catalogVersion,
        added: 0,
        updated: 0,
        removed: 0,
        purged,
        ms: compacted.buildMs,
        at: now(),
      };
      logger.log(
        `${name} index compacted in ${compacted.buildMs.toFixed(0)} ms: ${purged} deleted points purged`,
      );
      this.scheduleSave();
    } catch (error) {
      logger.error(`${name} index compaction failed, keeping ${index.version}: ${(error as Error).message}`);
    }
  }

  private scheduleSave(delayMs = this.options.settings.RETRIEVAL_INDEX_SAVE_DELAY_MS): void {
    if (this.options.dir === undefined || this.stopped) return;
    this.dirty = true;
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (delayMs === 0) {
      void this.enqueue(() => this.save());
      return;
    }
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.enqueue(() => this.save());
    }, delayMs);
    this.saveTimer.unref();
  }

  private async save(): Promise<void> {
    const { dir, logger, name } = this.options;
    const index = this.index;
    if (dir === undefined || index === undefined || this.stopped) return;
    this.dirty = false;
    try {
      const report = await saveIndex(index, dir);
      this.lastSave = { ...report, at: now() };
      this.saveFailure = undefined;
      logger.log(
        `${name} index ${index.version} saved to ${report.dir} in ${report.ms.toFixed(0)} ms (${(report.bytes / 1e6).toFixed(1)} MB)`,
      );
    } catch (error) {
      this.dirty = true;
      this.saveFailure = { message: (error as Error).message, at: now() };
      logger.error(`${name} index could not be saved to ${dir}: ${(error as Error).message}`);
    }
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.tasks++;
    const run = this.work.then(task).finally(() => {
      this.tasks--;
    });
    this.work = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

function counts(applied: { added: number; updated: number; removed: number }) {
  return { added: applied.added, updated: applied.updated, removed: applied.removed };
}

function total(c: { added: number; updated: number; removed: number }): number {
  return c.added + c.updated + c.removed;
}

function now(): string {
  return new Date().toISOString();
}
