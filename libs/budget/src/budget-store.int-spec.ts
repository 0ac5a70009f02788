import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TEST_REDIS_URL, deleteRedisKeys, testRunId } from '@adfunnel/testing';
import { Redis } from 'ioredis';
import { BudgetStore, type ReservationRequest } from './budget-store.js';

const DAY = '2026-12-01';
const NOW = Date.UTC(2026, 11, 1, 12);
const TTL_MS = 15 * 60_000;

/** The same budget and one-ad estimate for each campaign. */
function budgets(ids: number[], budgetMicros: number, oneAdMicros: number) {
  return new Map(ids.map((id) => [id, { budgetMicros, oneAdMicros }]));
}

describe(BudgetStore.name, () => {
  const prefix = testRunId('budget');
  const clients: Redis[] = [];
  let redis: Redis;
  let sut: BudgetStore;
  let campaign = 0;
  // A fresh campaign per test keeps the tests apart inside the run's key prefix.
  const nextCampaign = () => ++campaign;

  const item = (overrides: Partial<ReservationRequest> & Pick<ReservationRequest, 'campaignId'>) => ({
    day: DAY,
    reservationId: `req-${Math.random().toString(36).slice(2)}:0`,
    amountMicros: 100,
    budgetMicros: 1_000,
    ...overrides,
  });

  beforeAll(() => {
    for (let i = 0; i < 4; i++) clients.push(new Redis(TEST_REDIS_URL));
    redis = clients[0];
    sut = new BudgetStore(redis, prefix);
  });

  afterAll(async () => {
    await deleteRedisKeys(prefix);
    for (const client of clients) client.disconnect();
  });

  describe('budget slices', () => {
    it("keep their own spend and reservations apart from the whole budget's and each other's", async () => {
      const id = nextCampaign();
      const control = sut.slice('load:ads/control');
      const more = sut.slice('load:ads/more');
      expect(sut.slice('load:ads/control')).toBe(control);
      // Each slice holds 400 of a 1,000 budget; `more` spends its 400 first.
      expect(
        await more.reserve([item({ campaignId: id, amountMicros: 400, budgetMicros: 400 })], NOW, 60_000),
      ).toEqual([true]);
      expect(
        await more.reserve([item({ campaignId: id, amountMicros: 1, budgetMicros: 400 })], NOW, 60_000),
      ).toEqual([false]);
      await more.publishSpend(DAY, id, 400);
      // The control's slice and the whole budget are untouched by it.
      expect(
        await control.reserve([item({ campaignId: id, amountMicros: 400, budgetMicros: 400 })], NOW, 60_000),
      ).toEqual([true]);
      expect((await sut.spendOf(DAY, [id])).get(id)).toBe(0);
      expect(await sut.reservedOf(DAY, id)).toBe(0);
      expect(await control.reservedOf(DAY, id)).toBe(400);
      expect((await more.spendOf(DAY, [id])).get(id)).toBe(400);
      expect(more.keys.spend(DAY)).toBe(`${prefix}:slice:load:ads/more:spend:${DAY}`);
    });

    it('refuses a key that is not an experiment label', () => {
      expect(() => sut.slice('Load ads')).toThrow(
        /budget slice key must be an experiment label, got "Load ads"/,
      );
      expect(() => sut.slice('')).toThrow(/experiment label/);
    });
  });

  describe('published spend', () => {
    it('only ever rises, whatever order the writes arrive in', async () => {
      const id = nextCampaign();
      expect(await sut.publishSpend(DAY, id, 500)).toBe(true);
      expect(await sut.publishSpend(DAY, id, 300)).toBe(false);
      expect(await sut.spendOf(DAY, [id])).toEqual(new Map([[id, 500]]));

      const totals = Array.from({ length: 200 }, (_, i) => 1_000 + i).sort(() => Math.random() - 0.5);
      await Promise.all(
        totals.map((total, i) => new BudgetStore(clients[i % 4], prefix).publishSpend(DAY, id, total)),
      );
      expect((await sut.spendOf(DAY, [id])).get(id)).toBe(1_199);
    });

    it('keeps every digit of amounts in the billions of dollars', async () => {
      const id = nextCampaign();
      await sut.publishSpend(DAY, id, 9_007_199_254_740_991);
      expect((await sut.spendOf(DAY, [id])).get(id)).toBe(9_007_199_254_740_991);
      expect(await redis.hget(sut.keys.spend(DAY), String(id))).toBe('9007199254740991');
    });

    it('publishes many campaigns at once for a rebuild, raising only the ones that were behind', async () => {
      const [a, b, c] = [nextCampaign(), nextCampaign(), nextCampaign()];
      await sut.publishSpend(DAY, a, 900);
      const entries = [a, b, c].map((campaignId, i) => ({ campaignId, chargedMicros: (i + 1) * 400 }));
      expect(await sut.publishSpendMany(DAY, entries)).toBe(2);
      expect(await sut.spendOf(DAY, [a, b, c, nextCampaign()])).toEqual(
        new Map([
          [a, 900],
          [b, 800],
          [c, 1_200],
          [campaign, 0],
        ]),
      );
    });

    it('expires a day of spend days after its last write, not never', async () => {
      const id = nextCampaign();
      await sut.publishSpend('2026-11-30', id, 1);
      const ttl = await redis.ttl(sut.keys.spend('2026-11-30'));
      expect(ttl).toBeGreaterThan(2 * 24 * 3600);
      expect(ttl).toBeLessThanOrEqual(3 * 24 * 3600);
    });

    it('names the campaigns whose spend leaves no room for one more ad', async () => {
      const [spent, under, untouched] = [nextCampaign(), nextCampaign(), nextCampaign()];
      await sut.publishSpend(DAY, spent, 1_000);
      await sut.publishSpend(DAY, under, 999);
      const thresholds = budgets([spent, under, untouched], 1_000, 1);
      expect(await sut.standing(DAY, thresholds, NOW)).toEqual({
        exhausted: new Set([spent]),
        committed: new Set(),
      });
      expect(await sut.standing('2026-12-02', thresholds, NOW)).toEqual({
        exhausted: new Set(),
        committed: new Set(),
      });
      expect(await sut.standing(DAY, new Map(), NOW)).toEqual({ exhausted: new Set(), committed: new Set() });
    });
  });

  describe('standing with reservations', () => {
    it('counts live reservations on top of the spend as committed, apart from the exhausted', async () => {
      const [reserved, mixed, short, exhausted] = [
        nextCampaign(),
        nextCampaign(),
        nextCampaign(),
        nextCampaign(),
      ];
      await sut.reserve([item({ campaignId: reserved, amountMicros: 1_000 })], NOW, TTL_MS);
      await sut.publishSpend(DAY, mixed, 600);
      await sut.reserve([item({ campaignId: mixed, amountMicros: 400 })], NOW, TTL_MS);
      // 500 held and 500 left: room for one more of its size.
      await sut.reserve([item({ campaignId: short, amountMicros: 500 })], NOW, TTL_MS);
      await sut.publishSpend(DAY, exhausted, 1_000);
      const thresholds = budgets([reserved, mixed, short, exhausted], 1_000, 1);
      expect(await sut.standing(DAY, thresholds, NOW + 1)).toEqual({
        exhausted: new Set([exhausted]),
        committed: new Set([reserved, mixed]),
      });
    });

    it('stops counting a reservation once it expires, and drops it from the sum', async () => {
      const id = nextCampaign();
      await sut.reserve([item({ campaignId: id, amountMicros: 1_000 })], NOW, 1_000);
      const thresholds = budgets([id], 1_000, 1);
      expect((await sut.standing(DAY, thresholds, NOW + 999)).committed).toEqual(new Set([id]));
      expect(await sut.reservedOf(DAY, id)).toBe(1_000);
      expect((await sut.standing(DAY, thresholds, NOW + 1_000)).committed).toEqual(new Set());
      expect(await sut.reservedOf(DAY, id)).toBe(0);
      expect(await redis.zcard(sut.keys.reservations(DAY, id))).toBe(0);
    });

    it('takes one more ad as the larger of the estimate and the campaign’s latest reservation size', async () => {
      const [a, b] = [nextCampaign(), nextCampaign()];
      // a: 700 reserved, then a request for 400 refused; b: 700 reserved in 100s.
      await sut.reserve([item({ campaignId: a, amountMicros: 700 })], NOW, TTL_MS);
      expect(await sut.reserve([item({ campaignId: a, amountMicros: 400 })], NOW, TTL_MS)).toEqual([false]);
      for (let i = 0; i < 7; i++)
        await sut.reserve([item({ campaignId: b, amountMicros: 100 })], NOW, TTL_MS);
      expect(await redis.hget(sut.keys.reservationSizes(DAY), String(a))).toBe('400');

      // With 300 left each, the priors' estimate of 10 says both have room; a's last ask says it has not.
      expect(await sut.standing(DAY, budgets([a, b], 1_000, 10), NOW)).toEqual({
        exhausted: new Set(),
        committed: new Set([a]),
      });
      // An estimate above the latest size wins.
      expect((await sut.standing(DAY, budgets([a, b], 1_000, 301), NOW)).committed).toEqual(new Set([a, b]));
    });

    it('frees a campaign when the impression it reserved for is charged', async () => {
      const id = nextCampaign();
      await sut.reserve([item({ campaignId: id, reservationId: 'st:0', amountMicros: 600 })], NOW, TTL_MS);
      const thresholds = budgets([id], 1_000, 1);
      // 400 left cannot hold another 600; charged at 300, 700 can.
      expect((await sut.standing(DAY, thresholds, NOW)).committed).toEqual(new Set([id]));
      await sut.settle(DAY, id, 'st:0', 300);
      expect(await sut.standing(DAY, thresholds, NOW)).toEqual({
        exhausted: new Set(),
        committed: new Set(),
      });
    });
  });

  describe('reservations', () => {
    it('admits exactly as much as the budget holds under hundreds of concurrent requests from several clients', async () => {
      const [a, b] = [nextCampaign(), nextCampaign()];
      const budgetMicros = 1_000;
      await sut.publishSpend(DAY, a, 50);
      // 400 requests of two winners each, on four connections at once: campaign a takes 7 micros a
      // serve (spend 50 leaves room for 135), campaign b 3 (room for 333).
      const requests = Array.from({ length: 400 }, (_, r) => [
        item({ campaignId: a, reservationId: `r${r}:0`, amountMicros: 7, budgetMicros }),
        item({ campaignId: b, reservationId: `r${r}:1`, amountMicros: 3, budgetMicros }),
      ]);
      const answers = await Promise.all(
        requests.map((items, r) =>
          new BudgetStore(clients[r % clients.length], prefix).reserve(items, NOW, TTL_MS),
        ),
      );
      const admittedA = answers.filter(([first]) => first).length;
      const admittedB = answers.filter(([, second]) => second).length;
      expect(50 + admittedA * 7).toBeLessThanOrEqual(budgetMicros);
      expect(admittedB * 3).toBeLessThanOrEqual(budgetMicros);
      // Nothing is refused while room is left: the budget fills to the last whole reservation.
      expect(admittedA).toBe(Math.floor((budgetMicros - 50) / 7));
      expect(admittedB).toBe(Math.floor(budgetMicros / 3));
      expect(await sut.reservedOf(DAY, a)).toBe(admittedA * 7);
      expect(await sut.reservedOf(DAY, b)).toBe(admittedB * 3);
    });

    it('takes one request’s winners in slot order, each seeing the ones before it', async () => {
      const id = nextCampaign();
      const flags = await sut.reserve(
        [
          item({ campaignId: id, reservationId: 'q:0', amountMicros: 600 }),
          item({ campaignId: id, reservationId: 'q:1', amountMicros: 600 }),
          item({ campaignId: id, reservationId: 'q:2', amountMicros: 400 }),
        ],
        NOW,
        TTL_MS,
      );
      expect(flags).toEqual([true, false, true]);
    });

    it('counts the published spend against the budget', async () => {
      const id = nextCampaign();
      await sut.publishSpend(DAY, id, 950);
      expect(await sut.reserve([item({ campaignId: id, amountMicros: 51 })], NOW, TTL_MS)).toEqual([false]);
      expect(await sut.reserve([item({ campaignId: id, amountMicros: 50 })], NOW, TTL_MS)).toEqual([true]);
    });

    it('keeps billing days apart', async () => {
      const id = nextCampaign();
      await sut.publishSpend(DAY, id, 1_000);
      const flags = await sut.reserve(
        [item({ campaignId: id }), item({ campaignId: id, day: '2026-12-02' })],
        NOW,
        TTL_MS,
      );
      expect(flags).toEqual([false, true]);
    });

    it('admits a retried reservation id again without holding its amount twice', async () => {
      const id = nextCampaign();
      const retried = item({ campaignId: id, reservationId: 'retry:0', amountMicros: 700 });
      expect(await sut.reserve([retried], NOW, TTL_MS)).toEqual([true]);
      expect(await sut.reserve([retried], NOW + 1, TTL_MS)).toEqual([true]);
      expect(await sut.reservedOf(DAY, id)).toBe(700);
    });

    it('gives the budget back once a reservation expires', async () => {
      const id = nextCampaign();
      expect(await sut.reserve([item({ campaignId: id, amountMicros: 1_000 })], NOW, 1_000)).toEqual([true]);
      expect(await sut.reserve([item({ campaignId: id })], NOW + 999, 1_000)).toEqual([false]);
      expect(await sut.reserve([item({ campaignId: id })], NOW + 1_000, 1_000)).toEqual([true]);
      expect(await sut.reservedOf(DAY, id)).toBe(100);
      expect(await redis.zcard(sut.keys.reservations(DAY, id))).toBe(1);
      const pttl = await redis.pttl(sut.keys.reservations(DAY, id));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(1_000);
    });

    it('gives the budget back on release, once', async () => {
      const id = nextCampaign();
      const held = item({ campaignId: id, reservationId: 'rel:0', amountMicros: 1_000 });
      expect(await sut.reserve([held], NOW, TTL_MS)).toEqual([true]);
      expect(await sut.reserve([item({ campaignId: id })], NOW, TTL_MS)).toEqual([false]);
      expect(await sut.release(DAY, id, 'rel:0')).toBe(true);
      expect(await sut.release(DAY, id, 'rel:0')).toBe(false);
      expect(await sut.release(DAY, id, 'never-held:0')).toBe(false);
      expect(await sut.reservedOf(DAY, id)).toBe(0);
      expect(await sut.reserve([item({ campaignId: id })], NOW, TTL_MS)).toEqual([true]);
    });

    it('settles a charge: the spend rises and the reservation it paid for is released together', async () => {
      const id = nextCampaign();
      await sut.reserve([item({ campaignId: id, reservationId: 'imp:0', amountMicros: 400 })], NOW, TTL_MS);
      expect(await sut.settle(DAY, id, 'imp:0', 400)).toBe(true);
      expect(await sut.spendOf(DAY, [id])).toEqual(new Map([[id, 400]]));
      expect(await sut.reservedOf(DAY, id)).toBe(0);
      // A redelivered charge finds nothing to release and cannot lower the spend.
      expect(await sut.settle(DAY, id, 'imp:0', 300)).toBe(false);
      expect(await sut.spendOf(DAY, [id])).toEqual(new Map([[id, 400]]));
    });

    it('refuses amounts that are not whole micros, saying which', async () => {
      const id = nextCampaign();
      await expect(sut.reserve([item({ campaignId: id, amountMicros: 0.5 })], NOW, TTL_MS)).rejects.toThrow(
        'amountMicros must be a non-negative integer of micros, got 0.5',
      );
      await expect(sut.reserve([item({ campaignId: id, amountMicros: 0 })], NOW, TTL_MS)).rejects.toThrow(
        'a reservation needs at least 1 micro, got 0',
      );
      await expect(sut.publishSpend('1.12.2026', id, 1)).rejects.toThrow(
        'billing day must be YYYY-MM-DD, got "1.12.2026"',
      );
    });
  });
});
