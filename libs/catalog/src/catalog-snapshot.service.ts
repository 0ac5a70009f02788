import { AdfunnelError } from '@adfunnel/contracts';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { resolve } from 'node:path';
import type { CatalogAd, CatalogSnapshot } from './catalog-ad.js';
import { CATALOG_MODULE_OPTIONS, DEFAULT_CATALOG_REFRESH_MS } from './catalog-module-options.js';
import { CatalogReader } from './catalog-reader.service.js';
import { CatalogStartupCheck } from './catalog-startup-check.service.js';
import { CatalogVersionHash } from './catalog-version.js';
import type { CatalogModuleOptions } from './database-config.js';

export type CatalogSnapshotListener = (
  snapshot: CatalogSnapshot,
  previous: CatalogSnapshot | undefined,
) => void;

/** What a feed needs of each service it feeds. */
interface FeedMember {
  readonly reader: CatalogReader;
  readonly refreshMs: number;
  readonly changePollMs: number;
  notify(snapshot: CatalogSnapshot, previous: CatalogSnapshot | undefined): void;
}

/**
 * Loads the catalog and reloads it every refreshMs: one per service, or, once
 * `shareCatalogSnapshots()` was called (services co-located in one process), one per database for
 * every service of the process, so the ads are read and held once and every service sees a change
 * at the same moment. Reloads on the shortest refresh period of its services, through any of
 * their readers (all read the same database).
 */
class CatalogFeed {
  private readonly logger = new Logger(CatalogSnapshotService.name);
  private readonly members = new Set<FeedMember>();
  current: CatalogSnapshot | undefined;
  private inFlight: Promise<CatalogSnapshot> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** The change mark read before the last load; a poll that reads another one reloads. */
  private seenMark: string | null | undefined;

  constructor(private readonly onEmpty: () => void = () => undefined) {}

  join(member: FeedMember): void {
    this.members.add(member);
    this.schedule();
    this.schedulePoll();
  }

  leave(member: FeedMember): void {
    this.members.delete(member);
    if (this.members.size > 0) {
      this.schedulePoll();
      return this.schedule();
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.onEmpty();
  }

  refresh(reader: CatalogReader): Promise<CatalogSnapshot> {
    this.inFlight ??= this.load(reader).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(fallbackReader: CatalogReader): Promise<CatalogSnapshot> {
    const started = performance.now();
    const reader = this.members.values().next().value?.reader ?? fallbackReader;
    // Read before the ads: a change committed during the load moves the mark past this value.
    const mark = this.pollPeriod() > 0 ? await reader.changeMark() : undefined;
    // In pages, yielding between them: a whole read of 10,000 ads blocked serving for 0.2-0.3 s.
    const ads: CatalogAd[] = [];
    const byId = new Map<number, CatalogAd>();
    const hash = new CatalogVersionHash();
    let active = 0;
    for await (const page of reader.adPages()) {
      for (const ad of page) {
        ads.push(ad);
        byId.set(ad.id, ad);
        hash.add(ad);
        if (ad.status === 'active' && ad.campaign.status === 'active') active++;
      }
    }
    if (mark !== undefined) this.seenMark = mark;
    const version = hash.digest();
    const previous = this.current;
    if (previous !== undefined && previous.version === version) {
      this.logger.debug(
        `catalog unchanged (${version}), checked in ${(performance.now() - started).toFixed(0)} ms`,
      );
      return previous;
    }
    const next: CatalogSnapshot = { version, loadedAt: Date.now(), ads, byId };
    this.current = next;
    this.logger.log(
      `catalog ${version} loaded: ${ads.length} ads (${active} servable), ` +
        `${new Set(ads.map((a) => a.campaignId)).size} campaigns in ${(performance.now() - started).toFixed(0)} ms` +
        (previous === undefined ? '' : `, replacing ${previous.version}`) +
        (this.members.size > 1 ? ` for ${this.members.size} services of this process` : ''),
    );
    for (const member of this.members) member.notify(next, previous);
    return next;
  }

  /** (Re)arms the reload timer on the shortest non-zero period of the services fed. */
  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const periods = [...this.members].map((m) => m.refreshMs).filter((ms) => ms > 0);
    if (periods.length === 0) return;
    const refreshMs = Math.min(...periods);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const member = this.members.values().next().value;
      if (member === undefined) return;
      this.refresh(member.reader)
        .catch((error: unknown) => {
          this.logger.error(
            `catalog refresh failed, keeping ${this.current?.version ?? 'no snapshot'}: ` +
              (error instanceof Error ? error.message : String(error)),
          );
        })
        .finally(() => {
          if (this.members.size > 0 && this.timer === undefined) this.schedule();
        });
    }, refreshMs);
    this.timer.unref();
  }

  /** The shortest non-zero change-poll period of the services fed; 0: none polls. */
  private pollPeriod(): number {
    const periods = [...this.members].map((m) => m.changePollMs).filter((ms) => ms > 0);
    return periods.length === 0 ? 0 : Math.min(...periods);
  }

  /** (Re)arms the change poll: reloads when a writer moved the catalog's change mark. */
  private schedulePoll(): void {
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    const periodMs = this.pollPeriod();
    if (periodMs === 0) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll().finally(() => {
        if (this.members.size > 0 && this.pollTimer === undefined) this.schedulePoll();
      });
    }, periodMs);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    const member = this.members.values().next().value;
    // A load in flight may have read the mark before a change: the next poll looks again.
    if (member === undefined || this.inFlight !== undefined || this.seenMark === undefined) return;
    try {
      const mark = await member.reader.changeMark();
      if (mark === this.seenMark || this.inFlight !== undefined) return;
      await this.refresh(member.reader);
    } catch (error) {
      this.logger.error(
        `catalog change poll failed, keeping ${this.current?.version ?? 'no snapshot'}: ` +
          (error instanceof Error ? error.message : String(error)),
      );
    }
  }
}

/** The shared feeds by database, once sharing is on; undefined: every service has its own. */
let sharedFeeds: Map<string, CatalogFeed> | undefined;

/**
 * From now on, the CatalogSnapshotServices of this process that read the same database share one
 * snapshot and one reload loop. For a process hosting several services (tools/funnel's co-located
 * mode); call it before they start.
 */
export function shareCatalogSnapshots(): void {
  sharedFeeds ??= new Map();
}

function feedFor(options: Pick<CatalogModuleOptions, 'databaseUrl'> & { sqlitePath?: string }): CatalogFeed {
  const feeds = sharedFeeds;
  const key =
    options.databaseUrl ??
    (options.sqlitePath === undefined ? undefined : `sqlite:${resolve(options.sqlitePath)}`);
  if (feeds === undefined || key === undefined) return new CatalogFeed();
  let feed = feeds.get(key);
  if (feed === undefined) {
    const created = new CatalogFeed(() => {
      if (feeds.get(key) === created) feeds.delete(key);
    });
    feeds.set(key, created);
    feed = created;
  }
  return feed;
}

/**
 * All ads in memory, reloaded every catalogRefreshMs, and within catalogChangePollMs of a writer's
 * markCatalogChanged. A reload builds a new snapshot and swaps the
 * reference, so a reader holding the old one keeps a consistent view; an unchanged catalog keeps its
 * snapshot. Services co-located in one process can share one (shareCatalogSnapshots).
 */
@Injectable()
export class CatalogSnapshotService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CatalogSnapshotService.name);
  private readonly listeners = new Set<CatalogSnapshotListener>();
  private readonly feed: CatalogFeed;
  private readonly member: FeedMember;

  constructor(
    private readonly reader: CatalogReader,
    private readonly startupCheck: CatalogStartupCheck,
    @Inject(CATALOG_MODULE_OPTIONS)
    options: Pick<CatalogModuleOptions, 'catalogRefreshMs' | 'catalogChangePollMs' | 'databaseUrl'> & {
      sqlitePath?: string;
    },
  ) {
    const refreshMs = options.catalogRefreshMs ?? DEFAULT_CATALOG_REFRESH_MS;
    if (!Number.isInteger(refreshMs) || refreshMs < 0) {
      throw new RangeError(
        `catalogRefreshMs must be a non-negative integer (0 disables), got ${String(refreshMs)}`,
      );
    }
    const changePollMs = options.catalogChangePollMs ?? 0;
    if (!Number.isInteger(changePollMs) || changePollMs < 0) {
      throw new RangeError(
        `catalogChangePollMs must be a non-negative integer (0 disables), got ${String(changePollMs)}`,
      );
    }
    this.feed = feedFor(options);
    this.member = {
      reader,
      refreshMs,
      changePollMs,
      notify: (next, previous) => this.notify(next, previous),
    };
  }

  async onModuleInit(): Promise<void> {
    await this.startupCheck.assertReady();
    this.feed.join(this.member);
    // A service joining a feed that already holds the catalog starts from its snapshot.
    if (this.feed.current === undefined) await this.refresh();
  }

  onModuleDestroy(): void {
    this.feed.leave(this.member);
  }

  /** The current snapshot; throws AdfunnelError('not_ready') before the first load. */
  snapshot(): CatalogSnapshot {
    const current = this.feed.current;
    if (current === undefined) throw new AdfunnelError('not_ready', 'catalog snapshot is not loaded yet');
    return current;
  }

  /** Reloads now (a call during a reload joins it) and returns the snapshot in force afterwards. */
  refresh(): Promise<CatalogSnapshot> {
    return this.feed.refresh(this.reader);
  }

  /** Called after every swap to a new version; returns an unsubscribe function. */
  onChange(listener: CatalogSnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(next: CatalogSnapshot, previous: CatalogSnapshot | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (error) {
        this.logger.error(
          `catalog change listener failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}
