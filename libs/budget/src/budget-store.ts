import { BudgetSliceSchema } from '@adfunnel/contracts';
import type { Redis } from 'ioredis';
import { BudgetKeys } from './budget-keys.js';
import { LIVE_RESERVED, PUBLISH_SPEND, RELEASE_RESERVATION, RESERVE, SETTLE } from './budget-scripts.js';

/** A day's spend hash outlives the day in every time zone, and each write renews it. */
const SPEND_TTL_SECONDS = 3 * 24 * 3600;
/** Rebuilds publish in chunks so one script call never holds Redis for long. */
const PUBLISH_CHUNK = 500;

export interface SpendEntry {
  readonly campaignId: number;
  /** Charged spend of the campaign on that billing day so far, integer micro-USD. */
  readonly chargedMicros: number;
}

/** A campaign's daily budget and what one more ad of it costs at least, integer micro-USD. */
export interface CampaignBudget {
  readonly budgetMicros: number;
  readonly oneAdMicros: number;
}

/** Campaigns that cannot take one more ad on a billing day, and why. */
export interface BudgetStanding {
  /** Charged spend alone has reached the threshold: out until the day ends or the budget rises. */
  readonly exhausted: Set<number>;
  /**
   * Charged spend plus live reservations (served ads whose impressions are not charged yet) has
   * reached it: out until impressions settle or reservations expire.
   */
  readonly committed: Set<number>;
}

export interface ReservationRequest {
  /** The campaign's billing day at serve time (advertisers in several time zones share a request). */
  readonly day: string;
  readonly campaignId: number;
  /** Unique per served slot, e.g. `<requestId>:<slot>`; the impression's charge releases it. */
  readonly reservationId: string;
  readonly amountMicros: number;
  readonly budgetMicros: number;
}

/**
 * The serve-time budget state in Redis, in integer micro-USD: the charged spend per campaign and
 * billing day (published by the billing worker after each charge, and rebuilt from the ledger), and
 * the reservations serving holds for impressions not yet charged. Reserving is one atomic script for
 * all winners of a request, so concurrent requests on any number of replicas can never admit more
 * than spend + reserved <= budget.
 */
export class BudgetStore {
  readonly keys: BudgetKeys;
  private readonly slices = new Map<string, BudgetStore>();

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new BudgetKeys(prefix);
  }

  /**
   * The state of one budget slice (a budget-split experiment's, BudgetSlice.key): spend, reservations
   * and reservation sizes of its own under `<prefix>:slice:<key>`, on the same connection. The slice's
   * budget is the caller's to size (the campaign's budget x the slice's share); its spend is what the
   * ledger charged the slice's ads.
   */
  slice(key: string): BudgetStore {
    let store = this.slices.get(key);
    if (store === undefined) {
      // The key names Redis keys: the same check the request's BudgetSlice passed, once per key.
      if (!BudgetSliceSchema.shape.key.safeParse(key).success) {
        throw new RangeError(`a budget slice key must be an experiment label, got "${key}"`);
      }
      store = new BudgetStore(this.redis, `${this.keys.prefix}:slice:${key}`);
      this.slices.set(key, store);
    }
    return store;
  }

  /** Raises the campaign-day's published spend to `chargedMicros`; a lower value changes nothing. */
  async publishSpend(day: string, campaignId: number, chargedMicros: number): Promise<boolean> {
    const raised = await PUBLISH_SPEND.run(
      this.redis,
      [this.keys.spend(day)],
      [SPEND_TTL_SECONDS, campaignId, micros('chargedMicros', chargedMicros)],
    );
    return raised === 1;
  }

  /** `publishSpend` for many campaigns of one day (the rebuild from the ledger). */
  async publishSpendMany(day: string, entries: readonly SpendEntry[]): Promise<number> {
    const key = this.keys.spend(day);
    let raised = 0;
    for (let start = 0; start < entries.length; start += PUBLISH_CHUNK) {
      const args: (string | number)[] = [SPEND_TTL_SECONDS];
      for (const entry of entries.slice(start, start + PUBLISH_CHUNK)) {
        args.push(campaign(entry.campaignId), micros('chargedMicros', entry.chargedMicros));
      }
      raised += Number(await PUBLISH_SPEND.run(this.redis, [key], args));
    }
    return raised;
  }

  /**
   * Raises the spend and releases the reservation the charge settles, atomically: a reader never
   * sees the reservation gone before the spend includes it.
   */
  async settle(
    day: string,
    campaignId: number,
    reservationId: string,
    chargedMicros: number,
  ): Promise<boolean> {
    const released = await SETTLE.run(
      this.redis,
      [
        this.keys.spend(day),
        this.keys.reservations(day, campaignId),
        this.keys.reservationAmounts(day, campaignId),
        this.keys.reservedSum(day, campaignId),
      ],
      [SPEND_TTL_SECONDS, campaignId, micros('chargedMicros', chargedMicros), reservationId],
    );
    return released === 1;
  }

  /** Published charged spend per campaign for the day; 0 for a campaign with none. */
  async spendOf(day: string, campaignIds: readonly number[]): Promise<Map<number, number>> {
    const spend = new Map<number, number>();
    if (campaignIds.length === 0) return spend;
    const values = await this.redis.hmget(
      this.keys.spend(day),
      ...campaignIds.map((id) => String(campaign(id))),
    );
    campaignIds.forEach((id, i) => spend.set(id, Number(values[i] ?? 0)));
    return spend;
  }

  /** Micros the campaign-day's reservations hold (an expired one counts until a reserve drops it). */
  async reservedOf(day: string, campaignId: number): Promise<number> {
    return Number((await this.redis.get(this.keys.reservedSum(day, campaignId))) ?? 0);
  }

  /**
   * Reserves each item in order, in one script call: an item is admitted iff the campaign-day's
   * spend + live reservations + its amount stays within its budget. Expired reservations of those
   * campaigns are dropped first. Returns one flag per item.
   */
  async reserve(items: readonly ReservationRequest[], now: number, ttlMs: number): Promise<boolean[]> {
    if (items.length === 0) return [];
    if (!Number.isSafeInteger(now)) throw new RangeError(`now must be epoch ms, got ${now}`);
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) {
      throw new RangeError(`reservation ttl must be a positive integer of ms, got ${ttlMs}`);
    }
    const keys: string[] = [];
    const args: (string | number)[] = [now, now + ttlMs, ttlMs];
    for (const item of items) {
      if (item.reservationId.length === 0) throw new RangeError('a reservation id must not be empty');
      keys.push(
        this.keys.spend(item.day),
        this.keys.reservations(item.day, item.campaignId),
        this.keys.reservationAmounts(item.day, item.campaignId),
        this.keys.reservedSum(item.day, item.campaignId),
        this.keys.reservationSizes(item.day),
      );
      const amount = micros('amountMicros', item.amountMicros);
      if (amount < 1) throw new RangeError(`a reservation needs at least 1 micro, got ${amount}`);
      args.push(item.campaignId, item.reservationId, amount, micros('budgetMicros', item.budgetMicros));
    }
    const flags = (await RESERVE.run(this.redis, keys, args)) as number[];
    return flags.map((flag) => flag === 1);
  }

  /** Gives a reservation back (its impression was charged, or will never be); false if not held. */
  async release(day: string, campaignId: number, reservationId: string): Promise<boolean> {
    const released = await RELEASE_RESERVATION.run(
      this.redis,
      [
        this.keys.reservations(day, campaignId),
        this.keys.reservationAmounts(day, campaignId),
        this.keys.reservedSum(day, campaignId),
      ],
      [reservationId],
    );
    return released === 1;
  }

  /**
   * Which campaigns of `budgets` cannot take one more ad on `day`: by charged spend alone
   * (exhausted), or by spend plus live reservations (committed). One more ad is the larger of the
   * caller's estimate (`oneAdMicros`, e.g. at the prediction priors) and the campaign's latest
   * reservation size that day, since a CPA reservation at the model's predictions can be many times
   * the priors'. One round trip reads every spend, reservation sum and size; only the campaigns those
   * put past their room get their expired reservations dropped and their sum read again, so a
   * reservation whose impression never came stops counting once it expires, and the common case
   * writes nothing.
   */
  async standing(
    day: string,
    budgets: ReadonlyMap<number, CampaignBudget>,
    now: number,
  ): Promise<BudgetStanding> {
    const exhausted = new Set<number>();
    const committed = new Set<number>();
    const ids = [...budgets.keys()];
    if (ids.length === 0) return { exhausted, committed };
    if (!Number.isSafeInteger(now)) throw new RangeError(`now must be epoch ms, got ${now}`);
    const fields = ids.map((id) => String(campaign(id)));
    const results = await this.redis
      .pipeline()
      .hmget(this.keys.spend(day), ...fields)
      .mget(...ids.map((id) => this.keys.reservedSum(day, id)))
      .hmget(this.keys.reservationSizes(day), ...fields)
      .exec();
    const [spendReply, sumReply, sizeReply] = (results ?? []).map(([error, value]) => {
      if (error) throw error;
      return value as (string | null)[];
    });
    const recheck: { id: number; spent: number; threshold: number }[] = [];
    ids.forEach((id, i) => {
      const { budgetMicros, oneAdMicros } = budgets.get(id)!;
      const oneAd = Math.max(oneAdMicros, Number(sizeReply[i] ?? 0));
      // The spend at which what is left cannot hold one more ad.
      const threshold = budgetMicros - oneAd + 1;
      const spent = Number(spendReply[i] ?? 0);
      if (spent >= threshold) exhausted.add(id);
      else if (spent + Number(sumReply[i] ?? 0) >= threshold) recheck.push({ id, spent, threshold });
    });
    if (recheck.length === 0) return { exhausted, committed };
    const sums = (await LIVE_RESERVED.run(
      this.redis,
      recheck.flatMap(({ id }) => [
        this.keys.reservations(day, id),
        this.keys.reservationAmounts(day, id),
        this.keys.reservedSum(day, id),
      ]),
      [now],
    )) as string[];
    recheck.forEach(({ id, spent, threshold }, i) => {
      if (spent + Number(sums[i]) >= threshold) committed.add(id);
    });
    return { exhausted, committed };
  }
}

function micros(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer of micros, got ${value}`);
  }
  return value;
}

function campaign(id: number): number {
  if (!Number.isSafeInteger(id)) throw new RangeError(`campaign id must be an integer, got ${id}`);
  return id;
}
