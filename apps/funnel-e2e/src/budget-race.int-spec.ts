import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdResponse } from '@adfunnel/contracts';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import {
  TEST_NATS_URL,
  TEST_REDIS_URL,
  deleteRedisKeys,
  eventually,
  postgresTestSchema,
  testRunId,
} from '@adfunnel/testing';
import { topicIndex } from '@adfunnel/features';
import { UserActivityStore } from '@adfunnel/user-activity';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ROOT, runCatalogCli } from './support/test-funnel.js';

const REQUESTS = 600;
const IN_FLIGHT = 16;
const TINY_BUDGET_USD = { CPM: 0.02, CPC: 0.6, CPA: 5 } as const;
const USERS = 200;
/** Clicks each user has in their history before the race, so candidates differ from user to user. */
const HISTORY_CLICKS = 3;

interface SpendRow {
  campaign_id: number;
  bid_type: 'CPM' | 'CPC' | 'CPA';
  budget: string;
  charged: string;
  overdelivered: string;
}

/**
 * Many concurrent requests through two gateways and two auctions at campaigns with tiny daily
 * budgets; every served ad's impression is reported, and a share of them clicked. No campaign-day is
 * charged past its budget, and CPM campaigns (whose reservation is the exact cost of the impression)
 * deliver nothing past it either.
 */
describe('budgets under concurrent serving on several replicas', () => {
  const runId = testRunId('budget_race');
  const schema = postgresTestSchema(runId);
  const db = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*/, '') });
  const output: string[] = [];
  let primary: FunnelLauncher;
  let replicas: FunnelLauncher;

  beforeAll(async () => {
    const env = {
      ...isolatedFunnelEnv({ runId, basePort: 4400, deadlineMs: 3000, stageTimeoutMs: 1500 }),
      DATABASE_URL: schema.databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      NATS_URL: TEST_NATS_URL,
    };
    runCatalogCli(schema.databaseUrl, ['migrate']);
    runCatalogCli(schema.databaseUrl, [
      'seed',
      '--advertisers',
      '30',
      '--ads',
      '600',
      '--users',
      String(USERS),
    ]);
    await db.connect();
    await db.query(`SET search_path TO ${runId}`);
    for (const [bidType, budget] of Object.entries(TINY_BUDGET_USD)) {
      await db.query(`UPDATE campaigns SET daily_budget = $1 WHERE bid_type = $2`, [budget, bidType]);
    }
    // Users with a few logged clicks each: cold users would all get the same popular list, and the
    // race would be between a handful of campaigns instead of many.
    const { rows: ads } = await db.query<{ id: number; advertiser_id: number; category: string }>(
      'SELECT id, advertiser_id, category FROM ads ORDER BY id',
    );
    const redis = new Redis(TEST_REDIS_URL);
    try {
      // isolatedFunnelEnv puts the run's activity keys under its run id (USER_ACTIVITY_KEY_PREFIX).
      const store = new UserActivityStore(redis, { prefix: runId });
      for (let u = 0; u < USERS; u++) {
        for (let c = 0; c < HISTORY_CLICKS; c++) {
          const ad = ads[(u * 7919 + c * 104_729) % ads.length];
          const event = {
            adId: ad.id,
            advertiserId: ad.advertiser_id,
            categoryIndex: topicIndex(ad.category),
          };
          await store.record(`u${String(u).padStart(5, '0')}`, { ...event, type: 'click', at: Date.now() });
        }
      }
    } finally {
      redis.disconnect();
    }
    const onLine = (app: string, line: string) => {
      output.push(`${app}: ${line}`);
      if (output.length > 300) output.shift();
    };
    primary = new FunnelLauncher({ root: ROOT, env, onLine, readyTimeoutMs: 90_000 });
    // A second gateway and a second auction: the same bus namespace, other ports.
    replicas = new FunnelLauncher({
      root: ROOT,
      env: { ...env, GATEWAY_PORT: '4410', AUCTION_PORT: '4413' },
      apps: ['auction', 'gateway'],
      onLine,
      readyTimeoutMs: 90_000,
    });
    try {
      await primary.start();
      await replicas.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${output.join('\n')}`, {
        cause: err,
      });
    }
  }, 240_000);

  afterAll(async () => {
    await replicas?.stopAll();
    await primary?.stopAll();
    await db.end().catch(() => undefined);
    await schema.drop().catch(() => undefined);
    await deleteRedisKeys(runId);
  }, 60_000);

  it('charges no campaign-day past its budget, and delivers no CPM impression past it', async () => {
    const gateways = [primary.url('gateway'), replicas.url('gateway')];
    let served = 0;
    let clicked = 0;
    let next = 0;
    const callbacks: Promise<number>[] = [];
    const statusOf = (res: Response) => res.arrayBuffer().then(() => res.status);
    const worker = async () => {
      while (next < REQUESTS) {
        const i = next++;
        const res = await fetch(`${gateways[i % 2]}/v1/ads`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            userId: `u${String(i % USERS).padStart(5, '0')}`,
            surface: 'home_feed',
            country: 'US',
            device: i % 3 === 0 ? 'desktop' : 'mobile',
            slots: 4,
          }),
        });
        const answer = (await res.json()) as AdResponse;
        for (const ad of answer.ads ?? []) {
          served += 1;
          callbacks.push(fetch(ad.tracking.impressionUrl).then(statusOf));
          if (served % 3 === 0) {
            clicked += 1;
            callbacks.push(fetch(ad.tracking.clickUrl, { redirect: 'manual' }).then(statusOf));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const statuses = await Promise.all(callbacks);
    expect(statuses.filter((status) => status !== 204 && status !== 302)).toEqual([]);

    const expected = served + clicked;
    try {
      await eventually(
        'every callback stored',
        async () =>
          Number((await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM tracking_events')).rows[0].n),
        (n) => n >= expected,
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${output.join('\n')}`, {
        cause: err,
      });
    }
    const { rows } = await db.query<SpendRow>(
      `SELECT s.campaign_id, c.bid_type, s.budget_micros AS budget, s.charged_micros AS charged,
              s.overdelivered_micros AS overdelivered
         FROM campaign_day_spend s JOIN campaigns c ON c.id = s.campaign_id`,
    );
    const exhausted = rows.filter((r) => Number(r.charged) >= Number(r.budget));
    const over = (type: string) =>
      rows.filter((r) => r.bid_type === type).reduce((sum, r) => sum + Number(r.overdelivered), 0);
    process.stdout.write(
      `budget race: ${REQUESTS} requests over 2 gateways and 2 auctions, ${served} ads served, ${clicked} clicked; ` +
        `${rows.length} campaign-days charged, ${exhausted.length} reached their budget; ` +
        `overdelivered (not billed): CPM ${over('CPM')} micros, CPC ${over('CPC')} micros\n`,
    );

    expect(served).toBeGreaterThan(100);
    expect(exhausted.length).toBeGreaterThan(5);
    for (const row of rows) expect(Number(row.charged)).toBeLessThanOrEqual(Number(row.budget));
    expect(over('CPM')).toBe(0);
  }, 240_000);
});
