import type { TrackingEventJob } from '@adfunnel/contracts';
import { eventCostMicros } from '@adfunnel/tracking';
import { billingDay } from '@adfunnel/utility';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
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
  billing?: { campaignId: number; billingDay: string; dayChargedMicros: number; budgetMicros: number };
}

/**
 * The event store and the spend ledger. Each tracking event is recorded in one transaction with its
 * ledger entry and the campaign-day total, so a repeat (same event id) changes nothing, and no
 * campaign-day is ever charged more than its budget: what would go past it is recorded as
 * overdelivered, not charged. On SQLite (one connection per process) writes are serialised here.
 */
export class EventStore {
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ds: DataSource,
    private readonly now: () => number = Date.now,
  ) {}

  record(event: TrackingEventJob, billing: BillingContext, receivedAt = this.now()): Promise<RecordedEvent> {
    return this.write(() => this.ds.transaction((em) => this.recordIn(em, event, billing, receivedAt)));
  }

  /** In chunks, to stay under the bound-parameter limits. Returns how many rows were new. */
  insertServedAds(rows: ServedAdEntity[]): Promise<number> {
    return this.write(async () => {
      let stored = 0;
      const runner = this.ds.createQueryRunner();
      try {
        for (let at = 0; at < rows.length; at += SERVED_ROWS_PER_INSERT) {
          stored += await insertIgnoringDuplicates(
            runner,
            ServedAdEntity,
            rows.slice(at, at + SERVED_ROWS_PER_INSERT),
          );
        }
      } finally {
        await runner.release();
      }
      return stored;
    });
  }

  /** Ranking's shadow log; a row already there (a redelivered job) is left as it is. Returns how many were new. */
  insertShadowScores(rows: ShadowScoreEntity[]): Promise<number> {
    return this.write(async () => {
      const runner = this.ds.createQueryRunner();
      try {
        return await insertIgnoringDuplicates(runner, ShadowScoreEntity, rows);
      } finally {
        await runner.release();
      }
    });
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
    if ((await insertIgnoringDuplicates(runner, TrackingEventEntity, [row])) === 0) {
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

    const spend = await this.lockDay(em, event, day, billing.budgetMicros);
    const chargedMicros = Math.min(costMicros, Math.max(0, billing.budgetMicros - spend.chargedMicros));
    const overdeliveredMicros = costMicros - chargedMicros;
    await em.getRepository(LedgerEntryEntity).insert({
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
    });
    const dayChargedMicros = spend.chargedMicros + chargedMicros;
    await em.getRepository(CampaignDaySpendEntity).update(
      { campaignId: event.campaignId, billingDay: day },
      {
        budgetMicros: billing.budgetMicros,
        chargedMicros: dayChargedMicros,
        overdeliveredMicros: spend.overdeliveredMicros + overdeliveredMicros,
        entries: spend.entries + 1,
        updatedAt: receivedAt,
      },
    );
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
      },
    };
  }

  /** The campaign-day row, created if new, locked until the transaction ends (SQLite: by its write lock). */
  private async lockDay(
    em: EntityManager,
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
    await insertIgnoringDuplicates(em.queryRunner!, CampaignDaySpendEntity, [fresh]);
    const query = em
      .getRepository(CampaignDaySpendEntity)
      .createQueryBuilder('s')
      .where('s.campaignId = :campaignId AND s.billingDay = :day', { campaignId: event.campaignId, day });
    if (this.ds.options.type === 'postgres') query.setLock('pessimistic_write');
    const row = await query.getOne();
    if (row === null) throw new Error(`campaign ${event.campaignId} day ${day}: spend row vanished`);
    return row;
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
  };
}

/**
 * INSERT OR IGNORE (SQLite) / ON CONFLICT DO NOTHING (PostgreSQL) on the primary key; the structured
 * result is the only portable way to learn how many rows the driver really inserted.
 */
async function insertIgnoringDuplicates<T extends ObjectLiteral>(
  runner: QueryRunner,
  target: EntityTarget<T>,
  rows: T[],
): Promise<number> {
  const [sql, parameters] = runner.manager
    .createQueryBuilder()
    .insert()
    .into(target)
    .values(rows)
    .orIgnore()
    .getQueryAndParameters();
  const result = (await runner.query(sql, parameters, true)) as { affected?: number };
  return result.affected ?? 0;
}
