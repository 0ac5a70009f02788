import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DatabaseConfig } from '@adfunnel/catalog';
import type { TrackingEventJob } from '@adfunnel/contracts';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { CampaignDaySliceSpendEntity } from './entities/campaign-day-slice-spend.entity.js';
import { CampaignDaySpendEntity } from './entities/campaign-day-spend.entity.js';
import { LedgerEntryEntity } from './entities/ledger-entry.entity.js';
import { TrackingEventEntity } from './entities/tracking-event.entity.js';
import { campaignDayReport } from './campaign-day-report.js';
import { EventStore } from './event-store.js';
import { funnelMigrationsPending, migrateFunnelDatabase, openFunnelDatabase } from './funnel-database.js';

// libs/testing depends on this library (its seeded catalogs migrate the event store), so the test
// keeps its own database set-up rather than import it.
const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const T0 = Date.UTC(2026, 11, 1, 12, 0);
let sequence = 0;

function eventFactory(overrides: Partial<TrackingEventJob> = {}): TrackingEventJob {
  sequence += 1;
  return {
    eventId: `e${String(sequence).padStart(8, '0')}`,
    type: 'impression',
    requestId: `r${sequence}`,
    userId: 'u00001',
    adId: 7,
    campaignId: 70,
    advertiserId: 700,
    slot: 0,
    bidType: 'CPM',
    price: 2,
    servedAt: T0,
    occurredAt: T0 + 1000,
    ...overrides,
  };
}

const UTC_BUDGET = (budgetMicros: number) => ({ budgetMicros, timeZone: 'UTC' });

interface Backend {
  name: string;
  /** Several DataSources on one database stand for several logging replicas (PostgreSQL only). */
  replicas: number;
  create(): Promise<{ config: DatabaseConfig; drop(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    replicas: 1,
    async create() {
      const dir = await mkdtemp(path.join(tmpdir(), 'adfunnel-ledger-'));
      return {
        config: { sqlitePath: path.join(dir, 'funnel.sqlite') },
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    replicas: 3,
    create() {
      const schema = `ledger_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const drop = async () => {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      };
      return Promise.resolve({
        config: { databaseUrl: `${POSTGRES_URL}?schema=${schema}`, sqlitePath: '' },
        drop,
      });
    },
  },
];

describe.each(BACKENDS.map((b) => [b.name, b] as const))(`${EventStore.name} on %s`, (_name, backend) => {
  let drop: () => Promise<void>;
  let sources: DataSource[] = [];
  let stores: EventStore[] = [];
  let sut: EventStore;
  let db: DataSource;

  const ledgerOf = (campaignId: number) => db.getRepository(LedgerEntryEntity).findBy({ campaignId });
  const dayOf = (campaignId: number, billingDay = '2026-12-01') =>
    db.getRepository(CampaignDaySpendEntity).findOneBy({ campaignId, billingDay });

  beforeAll(async () => {
    const target = await backend.create();
    drop = target.drop;
    db = await openFunnelDatabase(target.config);
    await migrateFunnelDatabase(db);
    sources = [db];
    for (let i = 1; i < backend.replicas; i++) sources.push(await openFunnelDatabase(target.config));
    stores = sources.map((ds) => new EventStore(ds, () => T0 + 5000));
    sut = stores[0]!;
  });

  afterAll(async () => {
    for (const ds of sources) await ds.destroy();
    await drop();
  });

  it('is fully migrated: catalog and event store', async () => {
    expect(await funnelMigrationsPending(db)).toEqual([]);
  });

  it('charges a CPM impression price/1000 in micros, once however often it is recorded', async () => {
    const impression = eventFactory({ campaignId: 71, price: 2.5 });
    const first = await sut.record(impression, UTC_BUDGET(1_000_000));
    const again = await sut.record(impression, UTC_BUDGET(1_000_000));

    expect(first).toMatchObject({ stored: true, costMicros: 2500, chargedMicros: 2500 });
    expect(first.billing).toEqual({
      campaignId: 71,
      billingDay: '2026-12-01',
      dayChargedMicros: 2500,
      budgetMicros: 1_000_000,
    });
    expect(again).toMatchObject({ stored: false, chargedMicros: 0 });
    expect(await ledgerOf(71)).toEqual([
      expect.objectContaining({ entryId: impression.eventId, costMicros: 2500, chargedMicros: 2500 }),
    ]);
    expect(await dayOf(71)).toMatchObject({ chargedMicros: 2500, overdeliveredMicros: 0, entries: 1 });
  });

  it('stores a free event without a ledger entry', async () => {
    const click = eventFactory({ campaignId: 72, type: 'click', bidType: 'CPM' });
    expect(await sut.record(click, UTC_BUDGET(1_000_000))).toMatchObject({
      stored: true,
      chargedMicros: 0,
      unbilled: 'not_billable',
    });
    expect(await ledgerOf(72)).toEqual([]);
    expect(await db.getRepository(TrackingEventEntity).countBy({ campaignId: 72 })).toBe(1);
  });

  it('never charges a campaign-day past its budget under concurrent charges from every replica', async () => {
    const price = 0.37;
    const events = Array.from({ length: 120 }, (_, i) =>
      eventFactory({ campaignId: 73, type: 'click', bidType: 'CPC', price, slot: i % 3 }),
    );
    const budgetMicros = 10_000_000;
    const results = await Promise.all(
      events.map((e, i) => stores[i % stores.length].record(e, UTC_BUDGET(budgetMicros))),
    );

    const charged = results.reduce((sum, r) => sum + r.chargedMicros, 0);
    const over = results.reduce((sum, r) => sum + r.overdeliveredMicros, 0);
    expect(charged).toBe(budgetMicros);
    expect(charged + over).toBe(120 * 370_000);
    // Exactly one charge is partial: the one that reached the budget.
    expect(results.filter((r) => r.chargedMicros > 0 && r.chargedMicros < 370_000)).toHaveLength(1);

    const ledger = await ledgerOf(73);
    expect(ledger).toHaveLength(120);
    expect(ledger.reduce((sum, e) => sum + e.chargedMicros, 0)).toBe(budgetMicros);
    expect(await dayOf(73)).toMatchObject({
      chargedMicros: budgetMicros,
      overdeliveredMicros: over,
      entries: 120,
      budgetMicros,
    });
  });

  it('bills the first conversion of a click and records later ones unbilled', async () => {
    const convert = (conversionId: string) =>
      eventFactory({
        campaignId: 74,
        type: 'conversion',
        bidType: 'CPA',
        price: 12,
        clickEventId: 'click-0001',
        conversionId,
      });
    const first = await sut.record(convert('order-1'), UTC_BUDGET(100_000_000));
    const second = await sut.record(convert('order-2'), UTC_BUDGET(100_000_000));

    expect(first).toMatchObject({ stored: true, chargedMicros: 12_000_000 });
    expect(second).toMatchObject({ stored: true, chargedMicros: 0, unbilled: 'extra_conversion_for_click' });
    expect(await ledgerOf(74)).toEqual([expect.objectContaining({ clickEventId: 'click-0001' })]);
    const stored = await db
      .getRepository(TrackingEventEntity)
      .find({ where: { campaignId: 74 }, order: { eventId: 'ASC' } });
    expect(stored.map((e) => [e.conversionId, e.cost])).toEqual([
      ['order-1', 12],
      ['order-2', 0],
    ]);
  });

  it("bills on the advertiser's calendar day", async () => {
    const lateUtc = eventFactory({ campaignId: 75, occurredAt: Date.UTC(2026, 11, 1, 23, 30) });
    const recorded = await sut.record(lateUtc, { budgetMicros: 1_000_000, timeZone: 'Asia/Tokyo' });

    expect(recorded.billing?.billingDay).toBe('2026-12-02');
    expect(await dayOf(75, '2026-12-02')).toMatchObject({ chargedMicros: 2000 });
    expect(await sut.daySpend(['2026-12-02'])).toEqual([expect.objectContaining({ campaignId: 75 })]);
  });

  it('reports spend, budget, delivery and events per campaign-day from the ledger', async () => {
    const report = await campaignDayReport(db, { from: '2026-12-01', to: '2026-12-02' });

    expect(report.find((r) => r.campaignId === 73)).toEqual({
      billingDay: '2026-12-01',
      campaignId: 73,
      advertiserId: 700,
      budgetMicros: 10_000_000,
      spendMicros: 10_000_000,
      overdeliveredMicros: 120 * 370_000 - 10_000_000,
      impressions: 0,
      clicks: 120,
      conversions: 0,
      hides: 0,
      deliveryPct: 100,
    });
    expect(report.find((r) => r.campaignId === 75)).toMatchObject({
      billingDay: '2026-12-02',
      impressions: 1,
    });
    expect(
      await campaignDayReport(db, { from: '2026-12-02', to: '2026-12-02', campaignId: 75 }),
    ).toHaveLength(1);
    await expect(campaignDayReport(db, { from: '2026-12-02', to: '2026-12-01' })).rejects.toThrow(
      'from (2026-12-02) must not be after to (2026-12-01)',
    );
    await expect(campaignDayReport(db, { from: '1 Dec', to: '2026-12-01' })).rejects.toThrow(
      'from must be a day as YYYY-MM-DD, got "1 Dec"',
    );
  });

  it('records a batch once per event, a repeat inside it or of an earlier batch charging nothing', async () => {
    const first = eventFactory({ campaignId: 76, price: 3 });
    const second = eventFactory({ campaignId: 77, price: 4 });
    const free = eventFactory({ campaignId: 76, type: 'hide' });
    const batch = [first, second, first, free].map((event) => ({ event, billing: UTC_BUDGET(1_000_000) }));

    const recorded = await sut.recordMany(batch);
    const again = await sut.recordMany(batch.slice(0, 2));

    expect(recorded.map((r) => [r.stored, r.chargedMicros])).toEqual([
      [true, 3000],
      [true, 4000],
      [false, 0],
      [true, 0],
    ]);
    expect(again.map((r) => r.stored)).toEqual([false, false]);
    expect(await ledgerOf(76)).toEqual([
      expect.objectContaining({ entryId: first.eventId, chargedMicros: 3000 }),
    ]);
    expect(await dayOf(77)).toMatchObject({ chargedMicros: 4000, entries: 1 });
  });

  it('never charges past the budget across concurrent batches from every replica', async () => {
    const batches = Array.from({ length: 12 }, () =>
      Array.from({ length: 10 }, () => ({
        event: eventFactory({ campaignId: 78, type: 'click', bidType: 'CPC', price: 0.37 }),
        billing: UTC_BUDGET(10_000_000),
      })),
    );
    const results = (
      await Promise.all(batches.map((batch, i) => stores[i % stores.length].recordMany(batch)))
    ).flat();

    expect(results.reduce((sum, r) => sum + r.chargedMicros, 0)).toBe(10_000_000);
    expect(results.reduce((sum, r) => sum + r.chargedMicros + r.overdeliveredMicros, 0)).toBe(120 * 370_000);
    expect(await dayOf(78)).toMatchObject({ chargedMicros: 10_000_000, entries: 120 });
  });

  it('stores nothing of a batch when one of its events cannot be stored', async () => {
    const good = eventFactory({ campaignId: 79 });
    const bad = { ...eventFactory({ campaignId: 79 }), userId: null as unknown as string };

    await expect(
      sut.recordMany([good, bad].map((event) => ({ event, billing: UTC_BUDGET(1_000_000) }))),
    ).rejects.toThrow();

    expect(await db.getRepository(TrackingEventEntity).countBy({ campaignId: 79 })).toBe(0);
    expect(await ledgerOf(79)).toEqual([]);
    expect(await sut.record(good, UTC_BUDGET(1_000_000))).toMatchObject({
      stored: true,
      chargedMicros: 2000,
    });
  });

  it("charges a budget slice's events to the slice's campaign-day total as well as the whole day's", async () => {
    const slices = ['load:ads/control', 'load:ads/more', undefined];
    const events = Array.from({ length: 30 }, (_, i) =>
      eventFactory({ campaignId: 95, price: 1 + (i % 3), budgetSlice: slices[i % 3] }),
    );
    // Concurrent single events and batches from every replica: the slice rows are locked after the day's.
    await Promise.all([
      ...events
        .slice(0, 15)
        .map((event, i) => stores[i % stores.length].record(event, UTC_BUDGET(1_000_000))),
      stores[stores.length - 1].recordMany(
        events.slice(15).map((event) => ({ event, billing: UTC_BUDGET(1_000_000) })),
      ),
    ]);
    const again = await sut.record(events[0], UTC_BUDGET(1_000_000));
    expect(again.stored).toBe(false);

    const rows = (await sut.daySliceSpend(['2026-12-01'])).filter((r) => r.campaignId === 95);
    const bySlice = Object.fromEntries(rows.map((r) => [r.budgetSlice, [r.chargedMicros, r.entries]]));
    // Control: prices 1, more: prices 2, ten events each at price/1000 USD.
    expect(bySlice).toEqual({ 'load:ads/control': [10_000, 10], 'load:ads/more': [20_000, 10] });
    expect(await dayOf(95)).toMatchObject({ chargedMicros: 60_000, entries: 30 });
    const ledger = await ledgerOf(95);
    expect(ledger.filter((e) => e.budgetSlice === 'load:ads/more')).toHaveLength(10);
    expect(ledger.filter((e) => e.budgetSlice === null)).toHaveLength(10);
    const stored = await db
      .getRepository(TrackingEventEntity)
      .findOneByOrFail({ eventId: events[1].eventId });
    expect(stored.budgetSlice).toBe('load:ads/more');

    const next = await sut.record(
      eventFactory({ campaignId: 95, price: 5, budgetSlice: 'load:ads/more' }),
      UTC_BUDGET(1_000_000),
    );
    expect(next.billing?.slice).toEqual({ key: 'load:ads/more', dayChargedMicros: 25_000 });
  });

  it('keeps every campaign-day total equal to the sums of its ledger', async () => {
    const days = await db.getRepository(CampaignDaySpendEntity).find();
    const entries = await db.getRepository(LedgerEntryEntity).find();
    for (const day of days) {
      const own = entries.filter((e) => e.campaignId === day.campaignId && e.billingDay === day.billingDay);
      expect([
        day.campaignId,
        day.entries,
        day.chargedMicros,
        day.chargedMicros + day.overdeliveredMicros,
      ]).toEqual([
        day.campaignId,
        own.length,
        own.reduce((sum, e) => sum + e.chargedMicros, 0),
        own.reduce((sum, e) => sum + e.costMicros, 0),
      ]);
    }
    for (const slice of await db.getRepository(CampaignDaySliceSpendEntity).find()) {
      const own = entries.filter(
        (e) =>
          e.campaignId === slice.campaignId &&
          e.billingDay === slice.billingDay &&
          e.budgetSlice === slice.budgetSlice,
      );
      expect([slice.budgetSlice, slice.entries, slice.chargedMicros]).toEqual([
        slice.budgetSlice,
        own.length,
        own.reduce((sum, e) => sum + e.chargedMicros, 0),
      ]);
    }
  });
});
