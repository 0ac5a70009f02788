import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { seedCatalog } from '@adfunnel/catalog-seed';
import type { EventType, UserActivity } from '@adfunnel/contracts';
import {
  ServedAdEntity,
  TrackingEventEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import { TWO_TOWER_SPEC, twoTowerSpecFingerprint } from '@adfunnel/features';
import type { DataSource } from 'typeorm';
import { type RetrievalRow, exportRetrievalDataset } from './retrieval-export.js';

const SPEC = { seed: 9, advertisers: 6, campaignsPerAdvertiser: 2, ads: 60, users: 20 };
const T0 = Date.UTC(2026, 0, 1);

const activity = (recentAdIds: number[]): UserActivity => ({
  impressionsByCategory: new Array<number>(16).fill(0.5),
  clicksByCategory: new Array<number>(16).fill(0),
  hidesByCategory: new Array<number>(16).fill(0),
  conversionsByCategory: new Array<number>(16).fill(0),
  recentAdIds,
  recentAdvertiserIds: [],
  recentQueries: ['shoes'],
  updatedAt: T0,
});

function served(r: number, slot: number, over: Partial<ServedAdEntity> = {}): ServedAdEntity {
  const requestId = `req-${String(r).padStart(3, '0')}`;
  return {
    id: `${requestId}:${slot}`,
    requestId,
    // Ids out of time order: the export must sort by served_at, not by id.
    servedAt: T0 + (50 - r) * 1000,
    userId: 'u00001',
    surface: r % 2 === 0 ? 'search' : 'related_items',
    country: 'US',
    device: 'mobile',
    slot,
    adId: 1 + ((r * 3 + slot) % 60),
    campaignId: 1,
    advertiserId: 1,
    bidType: 'CPC',
    bid: 1,
    price: 0.5,
    pCtr: 0.05,
    pCtrRaw: null,
    pCvr: 0.1,
    pHide: null,
    modelVersion: 'cold',
    degraded: [],
    features: null,
    featureDim: null,
    query: r % 2 === 0 ? 'running shoes' : null,
    contextAdId: r % 2 === 0 ? null : 5,
    userActivity: r % 5 === 0 ? null : activity([r + 1]),
    ...over,
  };
}

function event(row: ServedAdEntity, type: EventType): TrackingEventEntity {
  return {
    eventId: `${row.id}:${type}`,
    type,
    requestId: row.requestId,
    userId: row.userId,
    adId: row.adId,
    campaignId: row.campaignId,
    advertiserId: row.advertiserId,
    slot: row.slot,
    bidType: row.bidType,
    price: row.price,
    cost: 0,
    billingDay: null,
    clickEventId: null,
    conversionId: null,
    budgetSlice: null,
    servedAt: row.servedAt,
    occurredAt: row.servedAt + 10,
    receivedAt: row.servedAt + 20,
  };
}

/** The retrieval export on a real SQLite funnel database: seeded catalog, served ads, tracking events. */
describe('retrieval export', () => {
  let dir: string;
  let ds: DataSource;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adfunnel-retrieval-export-'));
    ds = await openFunnelDatabase({ sqlitePath: join(dir, 'funnel.sqlite') });
    await migrateFunnelDatabase(ds);
    await seedCatalog(ds, SPEC);
    const rows: ServedAdEntity[] = [];
    const events: TrackingEventEntity[] = [];
    for (let r = 0; r < 40; r++) {
      for (let slot = 0; slot < 2; slot++) {
        const row = served(r, slot);
        rows.push(row);
        if (r % 7 === 6) continue; // never rendered: not exported
        events.push(event(row, 'impression'));
        if (slot === 0 && r % 3 === 0) events.push(event(row, 'click'));
        if (slot === 0 && r % 6 === 0) events.push(event(row, 'conversion'));
        if (slot === 1 && r % 4 === 0) events.push(event(row, 'hide'));
      }
    }
    await ds.getRepository(ServedAdEntity).insert(rows);
    await ds.getRepository(TrackingEventEntity).insert(events);
  });
  afterAll(async () => {
    await ds.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the catalog, the rendered served ads in time order with labels and request context, and the spec', async () => {
    const out = join(dir, 'export');
    const report = await exportRetrievalDataset(ds, { out, batchSize: 7 });
    const read = async (file: string) =>
      (await readFile(join(out, file), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);

    const ads = await read('ads.jsonl');
    expect(ads).toHaveLength(60);
    expect(ads[0]).toMatchObject({ id: 1, status: expect.any(String) as unknown });
    expect(ads[0]['embedding']).toHaveLength(32);

    const rows = (await read('served.jsonl')) as unknown as RetrievalRow[];
    const rendered = 40 - Math.floor(40 / 7);
    expect(rows).toHaveLength(2 * rendered);
    expect(report).toMatchObject({
      ads: 60,
      rows: 2 * rendered,
      columns: ['query', 'context_ad_id', 'user_activity'],
    });
    const times = rows.map((r) => r.servedAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const clicked = rows.filter((r) => r.click === 1);
    expect(clicked.every((r) => r.slot === 0 && Number(r.requestId.slice(4)) % 3 === 0)).toBe(true);
    expect(report.clicks).toBe(clicked.length);
    expect(rows.filter((r) => r.conversion === 1).every((r) => r.click === 1)).toBe(true);
    expect(rows.filter((r) => r.hidden === 1).every((r) => r.slot === 1)).toBe(true);

    const search = rows.find((r) => r.requestId === 'req-002')!;
    expect(search).toMatchObject({ surface: 'search', query: 'running shoes', contextAdId: null });
    expect((search.activity as UserActivity).recentAdIds).toEqual([3]);
    const related = rows.find((r) => r.requestId === 'req-001')!;
    expect(related).toMatchObject({ surface: 'related_items', query: null, contextAdId: 5 });
    expect(rows.find((r) => r.requestId === 'req-010')!.activity).toBeNull();

    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8')) as {
      format: string;
      twoTowerSpec: typeof TWO_TOWER_SPEC & { fingerprint: string };
    };
    expect(meta.format).toBe('adfunnel-retrieval-log');
    expect(meta.twoTowerSpec.fingerprint).toBe(twoTowerSpecFingerprint());
    expect(meta.twoTowerSpec.user.tokenLength).toBe(TWO_TOWER_SPEC.user.tokenLength);
  });
});
