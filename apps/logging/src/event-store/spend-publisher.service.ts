import { BudgetStore, type SpendEntry } from '@adfunnel/budget';
import type { TrackingEventJob } from '@adfunnel/contracts';
import { EventStore, type RecordedEvent } from '@adfunnel/event-store';
import { Clock, InjectConfig } from '@adfunnel/platform';
import { billingDay } from '@adfunnel/utility';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { LoggingConfig } from '../config.js';

const DAY_MS = 86_400_000;

/**
 * Keeps the serve-time budget state (Redis) in step with the ledger: after each charge it raises the
 * campaign-day's published spend and releases the reservation serving made for that ad (a CPM
 * impression, a CPC click, a CPA conversion; one that never comes expires); on start and every
 * BUDGET_REBUILD_MS it republishes every current campaign-day from the ledger, so a Redis that lost its
 * data, or a publish lost to a crash, never leaves spend forgotten. A budget-split experiment's charge
 * settles in its slice (the slice's own spend and reservations) and raises the campaign-day's spend too;
 * the rebuild republishes the slices' totals as well.
 */
@Injectable()
export class SpendPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SpendPublisher.name);
  private readonly redis: Redis;
  private readonly budget: BudgetStore;
  private timer: NodeJS.Timeout | undefined;
  private rebuilding: Promise<number> | undefined;

  constructor(
    @InjectConfig() private readonly config: LoggingConfig,
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {
    this.redis = new Redis(config.REDIS_URL, {
      connectionName: 'adfunnel-logging-budget',
      maxRetriesPerRequest: 2,
      lazyConnect: true,
      // A job's events publish their spend in the same turn of the event loop: one write for all.
      enableAutoPipelining: true,
    });
    this.redis.on('error', (error: Error) => this.logger.debug(`budget state Redis: ${error.message}`));
    this.budget = new BudgetStore(this.redis, config.BUDGET_KEY_PREFIX);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.rebuildOrWarn();
    this.timer = setInterval(() => void this.rebuildOrWarn(), this.config.BUDGET_REBUILD_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.rebuilding?.catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** After the charge committed; a failure is logged, and the next rebuild repairs it. */
  async published(event: TrackingEventJob, recorded: RecordedEvent): Promise<void> {
    const billing = recorded.billing;
    if (billing === undefined) return;
    const reservationId = `${event.requestId}:${event.slot}`;
    try {
      // The charge of a served ad replaces the reservation serving made for it (request and slot), in
      // the budget slice it was reserved from when a budget-split experiment served it; the whole
      // campaign-day's spend rises either way.
      if (billing.slice === undefined) {
        await this.budget.settle(
          billing.billingDay,
          billing.campaignId,
          reservationId,
          billing.dayChargedMicros,
        );
      } else {
        await Promise.all([
          this.budget
            .slice(billing.slice.key)
            .settle(billing.billingDay, billing.campaignId, reservationId, billing.slice.dayChargedMicros),
          this.budget.publishSpend(billing.billingDay, billing.campaignId, billing.dayChargedMicros),
        ]);
      }
    } catch (error) {
      this.logger.warn(
        `campaign ${billing.campaignId} day ${billing.billingDay}: spend ${billing.dayChargedMicros} micros not published (${(error as Error).message}); the next rebuild publishes it`,
      );
    }
  }

  /** Publishes every campaign-day of yesterday, today and tomorrow (UTC), which covers every time zone. */
  rebuild(now = this.clock.now()): Promise<number> {
    this.rebuilding ??= (async () => {
      try {
        const days = [now - DAY_MS, now, now + DAY_MS].map((t) => billingDay(t, 'UTC'));
        const [rows, sliceRows] = await Promise.all([
          this.store.daySpend(days),
          this.store.daySliceSpend(days),
        ]);
        const bySliceDay = new Map<string, Map<string, SpendEntry[]>>();
        for (const row of sliceRows) {
          const slices = bySliceDay.get(row.billingDay) ?? new Map<string, SpendEntry[]>();
          slices.set(row.budgetSlice, [...(slices.get(row.budgetSlice) ?? []), row]);
          bySliceDay.set(row.billingDay, slices);
        }
        let raised = 0;
        for (const day of days) {
          const entries = rows.filter((r) => r.billingDay === day);
          if (entries.length > 0) raised += await this.budget.publishSpendMany(day, entries);
          for (const [key, slice] of bySliceDay.get(day) ?? []) {
            raised += await this.budget.slice(key).publishSpendMany(day, slice);
          }
        }
        return raised;
      } finally {
        this.rebuilding = undefined;
      }
    })();
    return this.rebuilding;
  }

  private async rebuildOrWarn(): Promise<void> {
    try {
      const raised = await this.rebuild();
      if (raised > 0) this.logger.log(`budget state rebuilt from the ledger: ${raised} campaign-days raised`);
    } catch (error) {
      this.logger.warn(`budget state not rebuilt from the ledger: ${(error as Error).message}`);
    }
  }
}
