#!/usr/bin/env node
/* eslint-disable @nx/enforce-module-boundaries -- it times retrieval's own index lifecycle and candidate catalog in-process */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  type CatalogAd,
  CatalogReader,
  CatalogSnapshotService,
  CatalogStartupCheck,
  catalogVersion,
  createDataSource,
  markCatalogChanged,
} from '@adfunnel/catalog';
import { loadRetrievalConfig } from '@adfunnel/retrieval/dist/config.js';
import { IndexLifecycleService } from '@adfunnel/retrieval/dist/index/index-lifecycle.service.js';
import { CandidateCatalog } from '@adfunnel/retrieval/dist/sources/candidate-catalog.js';
import type { DataSource } from 'typeorm';

const HELP = `adfunnel catalog change bench - how long one catalog change blocks a serving process

Usage: npm run bench:catalog-change -- --sqlite FILE [--changes 7] [--json]

Opens the seeded catalog (npm run catalog -- seed into FILE; the file is changed: ad titles and
campaign bids move), loads it with the services' own CatalogSnapshotService and retrieval's
IndexLifecycleService (content index built, RETRIEVAL_INDEX_DIR off, two-tower off), then per change
writes one ad (its title, or pauses it) or one campaign (its bid), marks the catalog changed and
times what a service does with it:
  stall      the longest event-loop block (perf_hooks monitorEventLoopDelay, max) from the reload
             to the index and candidate catalog in service: what a request waits at worst
  reload     wall time of CatalogSnapshotService.refresh (DB read, the ads' objects, the version
             hash, notifying the services); then, timed alone on the new snapshot:
  read       the DB read of every ad row joined with its campaign (one raw query)
  objects    building the ads' objects (CatalogReader.loadAds less the raw read)
  hash       the catalog version (catalogVersion: a hash of every ad)
  change     wall time from the reload's start to the new index and candidate catalog in service
  diff       AdIndex.changes of the new ads against the index in service (synchronous)
  candidates a whole CandidateCatalog.build of the snapshot (the previous way, for comparison)
  passes     three passes over the ads' campaigns, as retrieval's frequency caps and budgets and the
             auction's pacing make once per catalog version on their next use
Medians (and max) over the changes. Each DB statement of better-sqlite3 is synchronous.
`;

const { values } = parseArgs({
  options: {
    sqlite: { type: 'string' },
    changes: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

interface ChangeTimings {
  kind: string;
  stallMs: number;
  changeMs: number;
  reloadMs: number;
  readMs: number;
  objectsMs: number;
  hashMs: number;
  diffMs: number;
  candidatesMs: number;
  passesMs: number;
}

const AD_COLUMNS = `a.id, a.campaign_id, a.advertiser_id, a.title, a.text, a.image_url, a.landing_url, a.category,
  a.status, a.embedding, c.status, c.advertiser_id, c.bid_type, c.bid, c.daily_budget, c.target_countries,
  c.target_devices, adv.timezone, c.click_window_days, c.pacing, c.frequency_cap, c.frequency_window_hours,
  c.reserve_cpm`;

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const sqlitePath = values.sqlite;
  if (sqlitePath === undefined || !existsSync(sqlitePath)) {
    throw new Error(
      `--sqlite: no SQLite file at ${sqlitePath === undefined ? '(none given)' : resolve(sqlitePath)}`,
    );
  }
  const changes = Number(values.changes);
  if (!Number.isInteger(changes) || changes < 1) throw new Error(`--changes: expected a positive integer`);

  const dataSource = await createDataSource({ sqlitePath });
  const reader = new CatalogReader(dataSource);
  const options = { sqlitePath, catalogRefreshMs: 0, catalogChangePollMs: 0 };
  const catalog = new CatalogSnapshotService(reader, new CatalogStartupCheck(dataSource, {}), options);
  await catalog.onModuleInit();
  const config = loadRetrievalConfig({
    RETRIEVAL_INDEX_DIR: 'off',
    RETRIEVAL_TWO_TOWER: 'off',
    LOG_LEVEL: 'warn',
  });
  const lifecycle = new IndexLifecycleService(catalog, config);
  await lifecycle.onApplicationBootstrap();
  await lifecycle.idle();

  const ads = catalog.snapshot().ads;
  const servable = ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
  const timings: ChangeTimings[] = [];
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  for (let i = 0; i < changes; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const live = catalog
      .snapshot()
      .ads.filter((a) => a.status === 'active' && a.campaign.status === 'active');
    const ad = live[(i * 977) % live.length];
    const kind = (['ad title', 'campaign bid', 'ad status'] as const)[i % 3];
    await writeChange(dataSource, kind, ad, i);

    histogram.reset();
    // A block that spans the reset is not recorded: let the histogram's timer tick once first.
    await new Promise((r) => setTimeout(r, 3));
    const reloadStarted = performance.now();
    await catalog.refresh();
    const reloadMs = performance.now() - reloadStarted;
    // The keeper follows on the catalog's notification; wait until it installs the new catalog.
    while (lifecycle.current().catalogVersion !== catalog.snapshot().version) {
      await new Promise((r) => setTimeout(r, 1));
    }
    await lifecycle.idle();
    const changeMs = performance.now() - reloadStarted;
    // The histogram records a block once its timer fires after it.
    await new Promise((r) => setTimeout(r, 10));
    const stallMs = histogram.max / 1e6;

    const next = catalog.snapshot();
    const readStarted = performance.now();
    await dataSource.query(
      `SELECT ${AD_COLUMNS} FROM ads a JOIN campaigns c ON c.id = a.campaign_id
       JOIN advertisers adv ON adv.id = c.advertiser_id ORDER BY a.id`,
    );
    const readMs = performance.now() - readStarted;
    const loadStarted = performance.now();
    const loaded = await reader.loadAds();
    const objectsMs = performance.now() - loadStarted - readMs;
    const hashStarted = performance.now();
    catalogVersion(loaded);
    const hashMs = performance.now() - hashStarted;
    const index = lifecycle.current();
    const diffStarted = performance.now();
    index.changes(next.ads);
    const diffMs = performance.now() - diffStarted;
    const candidatesStarted = performance.now();
    CandidateCatalog.build(index, next.ads);
    const candidatesMs = performance.now() - candidatesStarted;
    const passesStarted = performance.now();
    for (let p = 0; p < 3; p++) campaignPass(next.ads);
    const passesMs = performance.now() - passesStarted;

    timings.push({
      kind,
      stallMs,
      changeMs,
      reloadMs,
      readMs,
      objectsMs,
      hashMs,
      diffMs,
      candidatesMs,
      passesMs,
    });
  }
  histogram.disable();
  await lifecycle.onModuleDestroy();
  catalog.onModuleDestroy();
  await dataSource.destroy();

  const keys = Object.keys(timings[0]).filter((k) => k !== 'kind') as Exclude<keyof ChangeTimings, 'kind'>[];
  const summary = Object.fromEntries(
    keys.map((k) => {
      const xs = timings.map((t) => t[k]);
      return [k, { median: round(median(xs)), max: round(Math.max(...xs)) }];
    }),
  );
  const result = {
    catalog: resolve(sqlitePath),
    ads: ads.length,
    servable: servable.length,
    changes,
    loadAverage: loadavg().map((l) => round(l)),
    summary,
    runs: timings.map((t) =>
      Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])),
    ),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(
    `catalog ${result.catalog}: ${result.ads} ads (${result.servable} servable), ${changes} changes, load average ${result.loadAverage.join(' ')}\n`,
  );
  process.stdout.write(`${'ms'.padEnd(14)}${'median'.padStart(9)}${'max'.padStart(9)}\n`);
  for (const k of keys) {
    process.stdout.write(
      `${k.padEnd(14)}${summary[k].median.toFixed(1).padStart(9)}${summary[k].max.toFixed(1).padStart(9)}\n`,
    );
  }
}

async function writeChange(dataSource: DataSource, kind: string, ad: CatalogAd, i: number): Promise<void> {
  await dataSource.transaction(async (manager) => {
    if (kind === 'ad title') {
      await manager.query(`UPDATE ads SET title = ? WHERE id = ?`, [
        `${ad.title.replace(/ #[\d-]+$/, '')} #${Date.now()}-${i}`,
        ad.id,
      ]);
    } else if (kind === 'campaign bid') {
      await manager.query(`UPDATE campaigns SET bid = bid * ? WHERE id = ?`, [
        i % 2 === 0 ? 1.01 : 0.99,
        ad.campaignId,
      ]);
    } else {
      await manager.query(`UPDATE ads SET status = 'paused' WHERE id = ?`, [ad.id]);
    }
    await markCatalogChanged(manager);
  });
}

function campaignPass(ads: readonly CatalogAd[]): number {
  const seen = new Map<number, number>();
  for (const { campaign } of ads) {
    if (campaign.status !== 'active' || seen.has(campaign.id)) continue;
    seen.set(campaign.id, campaign.dailyBudget * 1e6);
  }
  return seen.size;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `catalog change bench failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
