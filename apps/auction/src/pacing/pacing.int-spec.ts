import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BudgetRedis, BudgetStore, PacingStore } from '@adfunnel/budget';
import type { CatalogAd, CatalogCampaign } from '@adfunnel/catalog';
import { parseConfig } from '@adfunnel/platform';
import {
  FakeCatalogSnapshots,
  TEST_REDIS_URL,
  catalogAds,
  catalogSnapshot,
  deleteRedisKeys,
  testRunId,
} from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { AuctionConfigSchema } from '../config.js';
import { PacingService } from './pacing.service.js';

const DAY = '2026-03-02';
const MIDNIGHT = Date.UTC(2026, 2, 2);
const MINUTE_MS = 60_000;
/** $14.40 a day: on a flat curve, 10,000 micros a minute. */
const BUDGET_MICROS = 14_400_000;

describe(`${PacingService.name} on two auction replicas sharing Redis`, () => {
  const prefixes: string[] = [];
  let prefix: string;
  let run = 0;
  let now: number;
  const clock = { now: () => now };
  const redises: BudgetRedis[] = [];
  let replicas: [PacingService, PacingService];
  let budgets: BudgetStore;
  let campaigns: Record<'fast' | 'slow' | 'asap', CatalogCampaign>;

  /** Three campaigns on the advertiser day of UTC: two even ones and an asap one. */
  function adsFactory(): CatalogAd[] {
    const [a, b, c] = catalogAds();
    const campaign = (ad: CatalogAd, id: number, pacing: CatalogCampaign['pacing']): CatalogAd => ({
      ...ad,
      status: 'active',
      campaignId: id,
      campaign: {
        ...ad.campaign,
        id,
        status: 'active',
        dailyBudget: BUDGET_MICROS / 1e6,
        timezone: 'UTC',
        pacing,
      },
    });
    return [campaign(a, 1, 'even'), campaign(b, 2, 'even'), campaign(c, 3, 'asap')];
  }

  function replicaFactory(env: Record<string, string> = {}): PacingService {
    const config = parseConfig(AuctionConfigSchema, { BUDGET_KEY_PREFIX: prefix, ...env });
    const redis = new BudgetRedis(TEST_REDIS_URL, { name: 'pacing-int-spec', commandTimeoutMs: 2_000 });
    redises.push(redis);
    const ads = adsFactory();
    return new PacingService(
      new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService(),
      new PacingStore(redis.client, prefix),
      new BudgetStore(redis.client, prefix),
      redis,
      clock,
      config,
    );
  }

  /** Both replicas race for the slice; a second round lets the loser load what the winner committed. */
  const bothTick = async () => {
    await Promise.all(replicas.map((replica) => replica.tick()));
    await Promise.all(replicas.map((replica) => replica.tick()));
  };

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(async () => {
    prefix = testRunId(`pacing_${++run}`);
    prefixes.push(prefix);
    now = MIDNIGHT;
    replicas = [replicaFactory(), replicaFactory()];
    budgets = new BudgetStore(redises[0].client, prefix);
    const ads = adsFactory();
    campaigns = { fast: ads[0].campaign, slow: ads[1].campaign, asap: ads[2].campaign };
    await Promise.all(redises.map((redis) => redis.ready(5_000)));
  });

  afterAll(async () => {
    for (const used of prefixes) await deleteRedisKeys(used);
    for (const redis of redises) await redis.onApplicationShutdown();
  });

  it('computes each slice on one replica only, and both apply the same rates', async () => {
    await bothTick();
    expect(replicas.map((r) => r.status().slicesComputed).sort()).toEqual([0, 1]);
    expect(replicas.map((r) => r.status().rates)).toEqual([2, 2]);
    expect(replicas.map((r) => r.status().throttled)).toEqual([0, 0]);

    // In its first minute the fast campaign spent twice the minute's target; the slow one nothing.
    now = MIDNIGHT + MINUTE_MS;
    await budgets.publishSpend(DAY, campaigns.fast.id, 20_000);
    await bothTick();

    expect(replicas.map((r) => r.status().slicesComputed).reduce((a, b) => a + b)).toBe(2);
    expect(replicas.map((r) => r.status().throttled)).toEqual([1, 1]);
    const requests = Array.from({ length: 4_000 }, (_, i) => `req-${i}`);
    const decisions = replicas.map((replica) =>
      requests.map((id) =>
        [campaigns.fast, campaigns.slow, campaigns.asap].map((c) => replica.admits(id, c, now)),
      ),
    );
    expect(decisions[1]).toEqual(decisions[0]);
    const share = (index: number) => decisions[0].filter((d) => d[index]).length / requests.length;
    // Rate = (target step + a twentieth of the gap) / expected spend = (10,000 - 500) / 20,000.
    expect(share(0)).toBeGreaterThan(0.475 - 0.03);
    expect(share(0)).toBeLessThan(0.475 + 0.03);
    expect(share(1)).toBe(1);
    expect(share(2)).toBe(1);
  });

  it('adds up the requests both replicas counted, per hour of the funnel clock', async () => {
    for (let i = 0; i < 30; i++) replicas[0].countRequest(MIDNIGHT + i);
    for (let i = 0; i < 20; i++) replicas[1].countRequest(MIDNIGHT + 3_600_000 + i);
    replicas[1].countRequest(MIDNIGHT + 5);

    await bothTick();

    const store = new PacingStore(redises[0].client, prefix);
    await expect(store.requestCounts(MIDNIGHT, MIDNIGHT + 2 * 3_600_000)).resolves.toEqual([
      { hourStartMs: MIDNIGHT, requests: 31 },
      { hourStartMs: MIDNIGHT + 3_600_000, requests: 20 },
    ]);
  });

  it('lets every candidate through once a rate’s day is over, or with pacing off (which still counts requests)', async () => {
    await bothTick();
    now = MIDNIGHT + MINUTE_MS;
    await budgets.publishSpend(DAY, campaigns.fast.id, 200_000);
    await bothTick();
    const throttledAt = (replica: PacingService, at: number) =>
      Array.from({ length: 200 }, (_, i) => replica.admits(`req-${i}`, campaigns.fast, at)).filter((x) => !x)
        .length;

    expect(throttledAt(replicas[0], now)).toBeGreaterThan(150);
    expect(throttledAt(replicas[0], MIDNIGHT + 24 * 3_600_000)).toBe(0);
    const off = replicaFactory({ PACING: 'off' });
    await Promise.all(redises.map((redis) => redis.ready(5_000)));
    off.countRequest(now);
    await off.tick();
    expect(throttledAt(off, now)).toBe(0);
    // It still counts its requests: they are the traffic curve's history when pacing is turned on.
    const counted = await new PacingStore(redises[0].client, prefix).requestCounts(
      MIDNIGHT,
      MIDNIGHT + 3_600_000,
    );
    expect(counted).toEqual([{ hourStartMs: MIDNIGHT, requests: 1 }]);
  });
});
