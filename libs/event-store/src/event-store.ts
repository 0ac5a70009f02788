import type { TrackingEventJob } from '@adfunnel/contracts';
import { eventCostMicros } from '@adfunnel/tracking';
import { billingDay } from '@adfunnel/utility';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { EntityStatements } from './entity-statements.js';
import { CampaignDaySliceSpendEntity } from './entities/campaign-day-slice-spend.entity.js';
import { CampaignDaySpendEntity } from './entities/campaign-day-spend.entity.js';
import { LedgerEntryEntity } from './entities/ledger-entry.entity.js';
import { ServedAdEntity } from './entities/served-ad.entity.js';
import { ShadowScoreEntity } from './entities/shadow-score.entity.js';
import { TrackingEventEntity } from './entities/tracking-event.entity.js';

/** 21 columns a row: 10,500 bound parameters per statement, under SQLite's and PostgreSQL's limits. */
const SERVED_ROWS_PER_INSERT = 500;

/** What the charge of an event is held to: its campaign's daily budget now, and its advertiser's day. */
export interface BillingContext {
  budgetMicros: number;
  timeZone: string;
}

export type UnbilledReason = 'not_billable' | 'extra_conversion_for_click';

export interface RecordedEvent {
  /** False when the event was already stored: a repeat changes nothing and charges nothing. */
  stored: boolean;
  costMicros: number;
  chargedMicros: number;
  overdeliveredMicros: number;
  /** Why a stored event was not charged at all; absent when it was. */
  unbilled?: UnbilledReason;
  /** For a charged event: its billing day and the campaign-day's charged total after it. */
  billing?: {
    campaignId: number;
    billingDay: string;
    dayChargedMicros: number;
    budgetMicros: number;
    /** The event's budget slice (a budget-split experiment) and the slice's charged total of the day after it. */
    slice?: { key: string; dayChargedMicros: number };
  };
}

/** An event to record with what its charge is held to. */
export interface EventToRecord {
  event: TrackingEventJob;
  billing: BillingContext;
}

/**
 * The event store and the spend ledger. Each tracking event is recorded in one transaction with its
 * ledger entry and the campaign-day total, so a repeat (same event id) changes nothing, and no
 * campaign-day is ever charged more than its budget: what would go past it is recorded as
 * overdelivered, not charged. On SQLite (one connection per process) writes are serialised here.
 */
export class EventStore {
  private writes: Promise<unknown> = Promise.resolve();
  /**
   * SQLite: the one query runner every write goes through, as better-sqlite3's prepared statements
   * are cached per query runner (a runner per transaction would prepare each statement again).
   */
  private sqliteRunner: QueryRunner | undefined;
  private readonly events: EntityStatements<TrackingEventEntity>;
  private readonly ledger: EntityStatements<LedgerEntryEntity>;
  private readonly days: EntityStatements<CampaignDaySpendEntity>;
  private readonly sliceDays: EntityStatements<CampaignDaySliceSpendEntity>;
  private readonly served: EntityStatements<ServedAdEntity>;
  private readonly shadow: EntityStatements<ShadowScoreEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly now: () => number = Date.now,
  ) {
    this.events = new EntityStatements(ds, TrackingEventEntity);
    this.ledger = new EntityStatements(ds, LedgerEntryEntity);
    this.days = new EntityStatements(ds, CampaignDaySpendEntity);
    this.sliceDays = new EntityStatements(ds, CampaignDaySliceSpendEntity);
    this.served = new EntityStatements(ds, ServedAdEntity);
    this.shadow = new EntityStatements(ds, ShadowScoreEntity);
  }

  record(event: TrackingEventJob, billing: BillingContext, receivedAt = this.now()): Promise<RecordedEvent> {
    return this.write(() => this.transaction((em) => this.recordIn(em, event, billing, receivedAt)));
  }

  /**
   * Several events in one transaction, each as record() would store and charge it (a repeat, even
   * within `items`, changes nothing); if one fails, none is stored. One commit for all of them is
   * most of the saving on SQLite. Campaign-days are locked in campaign order, so two batches on
   * PostgreSQL never wait for each other's locks in a cycle. Results in the order of `items`.
   */
  recordMany(items: readonly EventToRecord[], receivedAt = this.now()): Promise<RecordedEvent[]> {
    const order = items
      .map((_, i) => i)
      .sort(
        (a, b) =>
          items[a].event.campaignId - items[b].event.campaignId ||
          items[a].event.occurredAt - items[b].event.occurredAt,
      );
    return this.write(() =>
      this.transaction(async (em) => {
        const recorded = new Array<RecordedEvent>(items.length);
        for (const i of order)
          recorded[i] = await this.recordIn(em, items[i].event, items[i].billing, receivedAt);
        return recorded;
      }),
    );
  }

  /** In chunks, to stay under the bound-parameter limits. Returns how many rows were new. */
  insertServedAds(rows: ServedAdEntity[]): Promise<number> {
    return this.write(() =>
      this.withRunner(async (runner) => {
        let stored = 0;
        for (let at = 0; at < rows.length; at += SERVED_ROWS_PER_INSERT) {
          stored += await this.served.insertIgnoringDuplicates(
            runner,
            rows.slice(at, at + SERVED_ROWS_PER_INSERT),
          );
        }
        return stored;
      }),
    );
  }

  /** Ranking's shadow log; a row already there (a redelivered job) is left as it is. Returns how many were new. */
  insertShadowScores(rows: ShadowScoreEntity[]): Promise<number> {
    return this.write(() => this.withRunner((runner) => this.shadow.insertIgnoringDuplicates(runner, rows)));
  }

  /** The campaign-day totals of these billing days, for rebuilding the serve-time budget state. */
  daySpend(days: string[]): Promise<CampaignDaySpendEntity[]> {
    if (days.length === 0) return Promise.resolve([]);
    return this.ds
      .getRepository(CampaignDaySpendEntity)
      .createQueryBuilder('s')
      .where('s.billingDay IN (:...days)', { days })
      .getMany();
  }

  /** The budget slices' campaign-day totals of these billing days (budget-split experiments). */
  daySliceSpend(days: string[]): Promise<CampaignDaySliceSpendEntity[]> {
    if (days.length === 0) return Promise.resolve([]);
    return this.ds
      .getRepository(CampaignDaySliceSpendEntity)
      .createQueryBuilder('s')
      .where('s.billingDay IN (:...days)', { days })
      .getMany();
  }

  private async recordIn(
    em: EntityManager,
    event: TrackingEventJob,
    billing: BillingContext,
    receivedAt: number,
  ): Promise<RecordedEvent> {
    const runner = em.queryRunner!;
    const costMicros = eventCostMicros(event.type, event.bidType, event.price);
    const day = billingDay(event.occurredAt, billing.timeZone);
    const row = trackingRow(event, costMicros, day, receivedAt);
    if ((await this.events.insertIgnoringDuplicates(runner, [row])) === 0) {
      return { stored: false, costMicros, chargedMicros: 0, overdeliveredMicros: 0 };
    }
    if (costMicros === 0) {
      return { stored: true, costMicros, chargedMicros: 0, overdeliveredMicros: 0, unbilled: 'not_billable' };
    }
    if (event.type === 'conversion' && event.clickEventId !== undefined) {
      const billed = await em.getRepository(LedgerEntryEntity).existsBy({ clickEventId: event.clickEventId });
      if (billed) {
        await em.getRepository(TrackingEventEntity).update({ eventId: event.eventId }, { cost: 0 });
        return {
          stored: true,
          costMicros: 0,
          chargedMicros: 0,
          overdeliveredMicros: 0,
          unbilled: 'extra_conversion_for_click',
        };
      }
    }

    const spend = await this.lockDay(runner, event, day, billing.budgetMicros);
    const chargedMicros = Math.min(costMicros, Math.max(0, billing.budgetMicros - spend.chargedMicros));
    const overdeliveredMicros = costMicros - chargedMicros;
    await this.ledger.insert(runner, {
      entryId: event.eventId,
      eventType: event.type,
      campaignId: event.campaignId,
      advertiserId: event.advertiserId,
      adId: event.adId,
      requestId: event.requestId,
      billingDay: day,
      costMicros,
      chargedMicros,
      clickEventId: event.type === 'conversion' ? (event.clickEventId ?? null) : null,
      occurredAt: event.occurredAt,
      recordedAt: receivedAt,
      budgetSlice: event.budgetSlice ?? null,
    });
    const dayChargedMicros = spend.chargedMicros + chargedMicros;
    await this.days.update(
      runner,
      { campaignId: event.campaignId, billingDay: day },
      {
        budgetMicros: billing.budgetMicros,
        chargedMicros: dayChargedMicros,
        overdeliveredMicros: spend.overdeliveredMicros + overdeliveredMicros,
        entries: spend.entries + 1,
        updatedAt: receivedAt,
      },
    );
    const slice =
      event.budgetSlice === undefined
        ? undefined
        : {
            key: event.budgetSlice,
            dayChargedMicros: await this.chargeSlice(runner, event, day, chargedMicros, receivedAt),
          };
    return {
      stored: true,
      costMicros,
      chargedMicros,
      overdeliveredMicros,
      billing: {
        campaignId: event.campaignId,
        billingDay: day,
        dayChargedMicros,
        budgetMicros: billing.budgetMicros,
        ...(slice === undefined ? {} : { slice }),
      },
    };
  }

  /**
   * Adds a charge to its budget slice's campaign-day total (created if new, locked after the
   * campaign-day's row, so every writer takes the two locks in one order); returns the new total.
   */
  private async chargeSlice(
    runner: QueryRunner,
    event: TrackingEventJob,
    day: string,
    chargedMicros: number,
    at: number,
  ): Promise<number> {
    const key = { campaignId: event.campaignId, billingDay: day, budgetSlice: event.budgetSlice! };
    await this.sliceDays.insertIgnoringDuplicates(runner, [
      { ...key, chargedMicros: 0, entries: 0, updatedAt: at },
    ]);
    const row = await this.sliceDays.findOne(runner, key, { forUpdate: true });
    if (row === null) {
      throw new Error(
        `campaign ${event.campaignId} day ${day} slice ${event.budgetSlice}: spend row vanished`,
      );
    }
    const total = row.chargedMicros + chargedMicros;
    await this.sliceDays.update(runner, key, {
      chargedMicros: total,
      entries: row.entries + 1,
      updatedAt: at,
    });
    return total;
  }

  /** The campaign-day row, created if new, locked until the transaction ends (SQLite: by its write lock). */
  private async lockDay(
    runner: QueryRunner,
    event: TrackingEventJob,
    day: string,
    budgetMicros: number,
  ): Promise<CampaignDaySpendEntity> {
    const fresh: CampaignDaySpendEntity = {
      campaignId: event.campaignId,
      billingDay: day,
      advertiserId: event.advertiserId,
      budgetMicros,
      chargedMicros: 0,
      overdeliveredMicros: 0,
      entries: 0,
      updatedAt: event.occurredAt,
    };
    await this.days.insertIgnoringDuplicates(runner, [fresh]);
    const row = await this.days.findOne(
      runner,
      { campaignId: event.campaignId, billingDay: day },
      { forUpdate: true },
    );
    if (row === null) throw new Error(`campaign ${event.campaignId} day ${day}: spend row vanished`);
    return row;
  }

  /** PostgreSQL: a pooled connection per transaction. SQLite: BEGIN ... COMMIT on the one runner. */
  private async transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.ds.options.type === 'postgres') return this.ds.transaction(work);
    const runner = (this.sqliteRunner ??= this.ds.createQueryRunner());
    await runner.startTransaction();
    try {
      const result = await work(runner.manager);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }

  private async withRunner<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    if (this.ds.options.type !== 'postgres') return work((this.sqliteRunner ??= this.ds.createQueryRunner()));
    const runner = this.ds.createQueryRunner();
    try {
      return await work(runner);
    } finally {
      await runner.release();
    }
  }

  private write<T>(run: () => Promise<T>): Promise<T> {
    if (this.ds.options.type === 'postgres') return run();
    const next = this.writes.then(run, run);
    this.writes = next.catch(() => undefined);
    return next;
  }
}

function trackingRow(
  event: TrackingEventJob,
  costMicros: number,
  day: string,
  receivedAt: number,
): TrackingEventEntity {
  return {
    eventId: event.eventId,
    type: event.type,
    requestId: event.requestId,
    userId: event.userId,
    adId: event.adId,
    campaignId: event.campaignId,
    advertiserId: event.advertiserId,
    slot: event.slot,
    bidType: event.bidType,
    price: event.price,
    cost: costMicros / 1_000_000,
    billingDay: day,
    clickEventId: event.clickEventId ?? null,
    conversionId: event.conversionId ?? null,
    servedAt: event.servedAt,
    occurredAt: event.occurredAt,
    receivedAt,
    budgetSlice: event.budgetSlice ?? null,
  };
}
