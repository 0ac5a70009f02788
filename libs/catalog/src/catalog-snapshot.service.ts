import { AdfunnelError } from '@adfunnel/contracts';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { CatalogAd, CatalogSnapshot } from './catalog-ad.js';
import { CATALOG_MODULE_OPTIONS, DEFAULT_CATALOG_REFRESH_MS } from './catalog-module-options.js';
import { CatalogReader } from './catalog-reader.service.js';
import { CatalogStartupCheck } from './catalog-startup-check.service.js';
import { catalogVersion } from './catalog-version.js';
import type { CatalogModuleOptions } from './database-config.js';

export type CatalogSnapshotListener = (
  snapshot: CatalogSnapshot,
  previous: CatalogSnapshot | undefined,
) => void;

/**
 * All ads in memory, reloaded every catalogRefreshMs. A reload builds a new snapshot and swaps the
 * reference, so a reader holding the old one keeps a consistent view; an unchanged catalog keeps its snapshot.
 */
@Injectable()
export class CatalogSnapshotService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CatalogSnapshotService.name);
  private readonly refreshMs: number;
  private readonly listeners = new Set<CatalogSnapshotListener>();
  private current: CatalogSnapshot | undefined;
  private inFlight: Promise<CatalogSnapshot> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly reader: CatalogReader,
    private readonly startupCheck: CatalogStartupCheck,
    @Inject(CATALOG_MODULE_OPTIONS) options: Pick<CatalogModuleOptions, 'catalogRefreshMs'>,
  ) {
    const refreshMs = options.catalogRefreshMs ?? DEFAULT_CATALOG_REFRESH_MS;
    if (!Number.isInteger(refreshMs) || refreshMs < 0) {
      throw new RangeError(
        `catalogRefreshMs must be a non-negative integer (0 disables), got ${String(refreshMs)}`,
      );
    }
    this.refreshMs = refreshMs;
  }

  async onModuleInit(): Promise<void> {
    await this.startupCheck.assertReady();
    await this.refresh();
    this.stopped = false;
    this.schedule();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The current snapshot; throws AdfunnelError('not_ready') before the first load. */
  snapshot(): CatalogSnapshot {
    if (this.current === undefined)
      throw new AdfunnelError('not_ready', 'catalog snapshot is not loaded yet');
    return this.current;
  }

  /** Reloads now (a call during a reload joins it) and returns the snapshot in force afterwards. */
  refresh(): Promise<CatalogSnapshot> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Called after every swap to a new version; returns an unsubscribe function. */
  onChange(listener: CatalogSnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async load(): Promise<CatalogSnapshot> {
    const started = performance.now();
    const ads = await this.reader.loadAds();
    const version = catalogVersion(ads);
    const previous = this.current;
    if (previous !== undefined && previous.version === version) {
      this.logger.debug(
        `catalog unchanged (${version}), checked in ${(performance.now() - started).toFixed(0)} ms`,
      );
      return previous;
    }
    const byId = new Map<number, CatalogAd>();
    let active = 0;
    for (const ad of ads) {
      byId.set(ad.id, ad);
      if (ad.status === 'active' && ad.campaign.status === 'active') active++;
    }
    const next: CatalogSnapshot = { version, loadedAt: Date.now(), ads, byId };
    this.current = next;
    this.logger.log(
      `catalog ${version} loaded: ${ads.length} ads (${active} servable), ` +
        `${new Set(ads.map((a) => a.campaignId)).size} campaigns in ${(performance.now() - started).toFixed(0)} ms` +
        (previous === undefined ? '' : `, replacing ${previous.version}`),
    );
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (error) {
        this.logger.error(
          `catalog change listener failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    return next;
  }

  private schedule(): void {
    if (this.refreshMs === 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      this.refresh()
        .catch((error: unknown) => {
          this.logger.error(
            `catalog refresh failed, keeping ${this.current?.version ?? 'no snapshot'}: ` +
              (error instanceof Error ? error.message : String(error)),
          );
        })
        .finally(() => this.schedule());
    }, this.refreshMs);
    this.timer.unref();
  }
}
