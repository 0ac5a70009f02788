import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BudgetStore, FrequencyCapStore, reservationMicros } from '@adfunnel/budget';
import { CatalogSnapshotService } from '@adfunnel/catalog';
import { type AuctionRequest, type AuctionResponse, QueueGroups, Rpc } from '@adfunnel/contracts';
import { parseConfig } from '@adfunnel/platform';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import {
  type SeededCatalog,
  type TestStage,
  TEST_REDIS_URL,
  deleteRedisKeys,
  eventually,
  metricValue,
  seededSqliteCatalog,
  startTestStage,
  testRunId,
} from '@adfunnel/testing';
import { billingDay, usdToMicros } from '@adfunnel/utility';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { AuctionModule } from './auction.module.js';
import { AuctionConfigSchema } from './config.js';

const SPEC: MarketplaceSpec = { seed: 13, advertisers: 10, campaignsPerAdvertiser: 2, ads: 300, users: 10 };
/** 0.05 USD a day: a dozen or so CPM impressions at these prices. */
const DAILY_BUDGET = 0.05;

describe(`${AuctionModule.name} reserving budget for its winners`, () => {
  const prefix = testRunId('auction_budget');
  let catalog: SeededCatalog;
  let replicas: TestStage[];
  let redis: Redis;
  let budgets: BudgetStore;
  let adIds: number[];

  const stageFactory = (name: string) =>
    startTestStage({
      name,
      queueGroup: QueueGroups.auction,
      module: (env) =>
        AuctionModule.forRoot(
          parseConfig(AuctionConfigSchema, {
            ...env,
            SQLITE_PATH: catalog.sqlitePath,
            BUDGET_KEY_PREFIX: prefix,
            // Hundreds of auctions at once in one process delay Redis replies past serving's backstop.
            BUDGET_REDIS_TIMEOUT_MS: '10000',
          }),
        ),
    });

  const requestFactory = (overrides: Partial<AuctionRequest> = {}): AuctionRequest => ({
    requestId: `req-${randomUUID()}`,
    deadlineAt: Date.now() + 10_000,
    surface: 'home_feed',
    device: 'mobile',
    slots: 3,
    adIds,
    predictions: { pCtr: adIds.map(() => 0.02), pCvr: adIds.map(() => 0.1) },
    ...overrides,
  });

  beforeAll(async () => {
    catalog = await seededSqliteCatalog(SPEC);
    replicas = [await stageFactory('auction_a'), await stageFactory('auction_b')];
    // Every campaign a CPM campaign on a tiny budget, with bids 2 to 6 so that GSP prices differ.
    await replicas[0].app
      .get(DataSource)
      .query(
        "UPDATE campaigns SET status = 'active', bid_type = 'CPM', bid = 2 + (id % 5), daily_budget = ?",
        [DAILY_BUDGET],
      );
    await replicas[0].app.get(DataSource).query("UPDATE ads SET status = 'active'");
    for (const replica of replicas) await replica.app.get(CatalogSnapshotService).refresh();
    adIds = replicas[0].app
      .get(CatalogSnapshotService)
      .snapshot()
      .ads.map((ad) => ad.id);
    redis = new Redis(TEST_REDIS_URL);
    budgets = new BudgetStore(redis, prefix);
  });

  afterAll(async () => {
    for (const replica of replicas ?? []) await replica.close();
    await catalog?.remove();
    await deleteRedisKeys(prefix);
    redis?.disconnect();
  });

  it('never reserves past a campaign’s daily budget under hundreds of concurrent requests on two replicas', async () => {
    const requests = Array.from({ length: 400 }, (_, i) => requestFactory({ requestId: `race-${i}` }));
    const answers: AuctionResponse[] = await Promise.all(
      requests.map((request, i) => replicas[i % 2].bus.call(Rpc.auctionRun, request)),
    );

    const snapshot = replicas[0].app.get(CatalogSnapshotService).snapshot();
    const reserved = new Map<number, number>();
    let admitted = 0;
    for (const answer of answers) {
      for (const winner of answer.winners) {
        admitted++;
        const amount = reservationMicros({ ...winner, pCtr: winner.pCtr ?? 0, pCvr: winner.pCvr ?? 0 });
        reserved.set(winner.campaignId, (reserved.get(winner.campaignId) ?? 0) + amount);
      }
    }
    const dropped = answers.reduce((n, answer) => n + (answer.budgetDropped ?? 0), 0);
    expect(admitted).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    const budgetMicros = usdToMicros(DAILY_BUDGET);
    for (const [campaignId, micros] of reserved) {
      expect(micros).toBeLessThanOrEqual(budgetMicros);
      const { timezone } = snapshot.ads.find((ad) => ad.campaign.id === campaignId)!.campaign;
      expect(await budgets.reservedOf(billingDay(Date.now(), timezone), campaignId)).toBe(micros);
    }
    // Refused winners made the auction run again without their campaigns, and the reruns' winners
    // are in the budgets' reservations above: nothing a rerun gave back stays reserved.
    expect(answers.some((answer) => (answer.budgetReruns ?? 0) > 0)).toBe(true);
    for (const answer of answers) {
      for (const winner of answer.winners) expect(winner.slot).toBeLessThan(3);
    }
    // Both replicas' /metrics add up to what the answers say.
    const scrapes = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
    const total = (name: string, labels: Record<string, string> = {}) =>
      scrapes.reduce((sum, text) => sum + (metricValue(text, name, labels) ?? 0), 0);
    const reservations = 'adfunnel_auction_budget_reservations_total';
    expect(total(reservations, { outcome: 'admitted' })).toBe(admitted);
    expect(total(reservations, { outcome: 'refused' })).toBe(dropped);
    expect(total('adfunnel_auction_winners_total', { surface: 'home_feed' })).toBe(admitted);
    expect(total('adfunnel_auction_runs_total', { surface: 'home_feed' })).toBe(requests.length);
    expect(total('adfunnel_bus_handled_total', { pattern: Rpc.auctionRun.pattern, outcome: 'ok' })).toBe(
      requests.length,
    );
  });

  it("counts the winners against the user's frequency caps", async () => {
    await deleteRedisKeys(prefix);
    const answer = await replicas[0].bus.call(Rpc.auctionRun, requestFactory({ userId: 'u-fcap' }));
    expect(answer.winners.length).toBeGreaterThan(0);
    const key = `${prefix}:fcap:u-fcap`;
    const state = await eventually(
      'the serves to be counted',
      () => redis.hgetall(key),
      (hash) => Object.keys(hash).length > 0,
      { timeoutMs: 2_000 },
    );
    for (const winner of answer.winners) expect(state[String(winner.campaignId)]).toBe('1');
  });

  it("adds the winners to the user's exposure, which the fatigue term reads on the next request", async () => {
    await deleteRedisKeys(prefix);
    const caps = new FrequencyCapStore(redis, prefix);
    const halfLifeMs = 3 * 3_600_000;
    const first = await replicas[0].bus.call(Rpc.auctionRun, requestFactory({ userId: 'u-tired' }));
    expect(first.winners.length).toBeGreaterThan(0);
    await eventually(
      'the exposure to be counted',
      () => caps.exposure('u-tired', Date.now(), halfLifeMs),
      (exposure) => exposure > first.winners.length - 0.01,
      { timeoutMs: 2_000 },
    );
    // 400 more: one more ad costs about 1 USD x 801 / 20^2 = 2 USD, more than any of these CPM ads brings
    await caps.recordServed('u-tired', [], Date.now(), { ads: 400, halfLifeMs });
    const tired = await replicas[1].bus.call(
      Rpc.auctionRun,
      requestFactory({ userId: 'u-tired', utilityWeights: { fatigue: 1 } }),
    );
    expect(tired.winners).toEqual([]);
    expect(tired.utilityWeights).toMatchObject({ fatigue: 1 });
    const arm = await replicas[1].bus.call(
      Rpc.auctionRun,
      requestFactory({ userId: 'u-tired', utilityWeights: { fatigue: 0 } }),
    );
    expect(arm.winners.length).toBeGreaterThan(0);
  });

  it('reports Redis on /health', async () => {
    const res = await fetch(`${replicas[0].url}/health`);
    const body = (await res.json()) as { info: Record<string, Record<string, unknown>> };
    expect(res.status).toBe(200);
    expect(body.info['redis']).toMatchObject({ status: 'up' });
  });
});
