import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BudgetStore, FrequencyCapStore } from '@adfunnel/budget';
import { type CatalogCampaign, CatalogSnapshotService } from '@adfunnel/catalog';
import { QueueGroups, Rpc, type CandidatesRequest } from '@adfunnel/contracts';
import { parseConfig } from '@adfunnel/platform';
import { type MarketplaceSpec, userAt } from '@adfunnel/simulator';
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
import { RetrievalConfigSchema } from './config.js';
import { RetrievalModule } from './retrieval.module.js';

const SPEC: MarketplaceSpec = { seed: 11, advertisers: 30, campaignsPerAdvertiser: 3, ads: 2500, users: 50 };
const REFRESH_MS = 50;

function requestFactory(userIndex: number, overrides: Partial<CandidatesRequest> = {}): CandidatesRequest {
  const user = userAt(SPEC, userIndex);
  return {
    requestId: `req-${randomUUID()}`,
    deadlineAt: Date.now() + 5_000,
    user: {
      userId: user.id,
      country: user.country,
      device: user.device,
      interests: Array.from(user.interests),
      known: true,
    },
    surface: 'home_feed',
    limit: 100,
    ...overrides,
  };
}

interface Health {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
}

async function health(stage: TestStage): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${stage.url}/health`);
  return { status: res.status, body: (await res.json()) as Health };
}

describe(`${RetrievalModule.name} with budget state and frequency caps`, () => {
  const prefix = testRunId('retrieval_budget');
  let catalog: SeededCatalog;
  let stage: TestStage;
  let redis: Redis;
  let budgets: BudgetStore;
  let caps: FrequencyCapStore;

  const candidates = (request: CandidatesRequest) => stage.bus.call(Rpc.retrievalCandidates, request);
  const campaignOf = (adId: number): CatalogCampaign =>
    stage.app.get(CatalogSnapshotService).snapshot().byId.get(adId)!.campaign;

  beforeAll(async () => {
    catalog = await seededSqliteCatalog(SPEC);
    redis = new Redis(TEST_REDIS_URL);
    budgets = new BudgetStore(redis, prefix);
    caps = new FrequencyCapStore(redis, prefix);
    stage = await startTestStage({
      name: 'retrieval',
      queueGroup: QueueGroups.retrieval,
      module: (env) =>
        RetrievalModule.forRoot(
          parseConfig(RetrievalConfigSchema, {
            ...env,
            SQLITE_PATH: catalog.sqlitePath,
            BUDGET_KEY_PREFIX: prefix,
            BUDGET_REFRESH_MS: String(REFRESH_MS),
            FREQUENCY_CAP_DEFAULT: '3',
            FREQUENCY_WINDOW_HOURS_DEFAULT: '24',
          }),
        ),
    });
  });

  afterAll(async () => {
    await stage?.close();
    await catalog?.remove();
    await deleteRedisKeys(prefix);
    redis?.disconnect();
  });

  it('stops retrieving a campaign once its charged spend reaches its daily budget, on its billing day', async () => {
    const request = requestFactory(0);
    const before = await candidates(request);
    const campaign = campaignOf(before.adIds[0]);
    const campaignAds = (ids: number[]) => ids.filter((id) => campaignOf(id).id === campaign.id);
    expect(campaignAds(before.adIds).length).toBeGreaterThan(0);

    await budgets.publishSpend(
      billingDay(Date.now(), campaign.timezone),
      campaign.id,
      usdToMicros(campaign.dailyBudget),
    );

    const after = await eventually(
      `campaign ${campaign.id} to leave retrieval`,
      () => candidates({ ...request, requestId: `req-${randomUUID()}` }),
      (response) => campaignAds(response.adIds).length === 0,
      { timeoutMs: 5_000, intervalMs: REFRESH_MS },
    );
    expect(after.adIds).toHaveLength(100);
    expect(after.eligible).toBeLessThan(before.eligible);
  });

  it('leaves out a campaign while live reservations hold its whole budget, and serves it again once they are released', async () => {
    const request = requestFactory(2);
    const before = await candidates(request);
    const campaign = campaignOf(before.adIds[0]);
    const fromCampaign = (ids: number[]) => ids.filter((id) => campaignOf(id).id === campaign.id);
    const day = billingDay(Date.now(), campaign.timezone);
    const budget = usdToMicros(campaign.dailyBudget);
    const reservation = { day, campaignId: campaign.id, reservationId: `held-${randomUUID()}:0` };
    expect(
      await budgets.reserve(
        [{ ...reservation, amountMicros: budget, budgetMicros: budget }],
        Date.now(),
        60_000,
      ),
    ).toEqual([true]);

    const held = await eventually(
      `campaign ${campaign.id} to leave retrieval while its budget is reserved`,
      () => candidates({ ...request, requestId: `req-${randomUUID()}` }),
      (response) => fromCampaign(response.adIds).length === 0,
      { timeoutMs: 5_000, intervalMs: REFRESH_MS },
    );
    expect(held.adIds).toHaveLength(100);
    expect((await health(stage)).body.info?.['budget']).toMatchObject({ committedCampaigns: 1 });

    expect(await budgets.release(day, campaign.id, reservation.reservationId)).toBe(true);
    await eventually(
      `campaign ${campaign.id} to come back once its reservation is released`,
      () => candidates({ ...request, requestId: `req-${randomUUID()}` }),
      (response) => fromCampaign(response.adIds).length > 0,
      { timeoutMs: 5_000, intervalMs: REFRESH_MS },
    );
  });

  it('stops retrieving a campaign for a user who has been served it as often as its cap allows', async () => {
    const request = requestFactory(1);
    const before = await candidates(request);
    const campaign = campaignOf(before.adIds[0]);
    const cap = campaign.frequencyCap ?? 3;
    const windowHours = campaign.frequencyWindowHours ?? 24;
    const fromCampaign = (ids: number[]) => ids.filter((id) => campaignOf(id).id === campaign.id);

    for (let i = 0; i < cap - 1; i++)
      await caps.recordServed(request.user.userId, [{ campaignId: campaign.id, windowHours }], Date.now());
    const underCap = await candidates({ ...request, requestId: `req-${randomUUID()}` });
    expect(fromCampaign(underCap.adIds).length).toBeGreaterThan(0);

    await caps.recordServed(request.user.userId, [{ campaignId: campaign.id, windowHours }], Date.now());
    const capped = await candidates({ ...request, requestId: `req-${randomUUID()}` });
    expect(fromCampaign(capped.adIds)).toEqual([]);
    expect(capped.adIds).toHaveLength(100);

    // Another user with the same profile is not capped.
    const other = await candidates({
      ...request,
      requestId: `req-${randomUUID()}`,
      user: { ...request.user, userId: `${request.user.userId}-twin` },
    });
    expect(fromCampaign(other.adIds).length).toBeGreaterThan(0);
  });

  it('reports the budget state and Redis on /health', async () => {
    const { status, body } = await health(stage);
    expect(status).toBe(200);
    expect(body.info?.['budget']).toMatchObject({
      status: 'up',
      exhaustedCampaigns: 1,
      committedCampaigns: 0,
    });
    expect(body.info?.['redis']).toMatchObject({ status: 'up' });
  });

  it('shows the campaigns left out for their budget on /metrics', async () => {
    const text = await (await fetch(`${stage.url}/metrics`)).text();
    const excluded = (state: string) =>
      metricValue(text, 'adfunnel_retrieval_budget_excluded_campaigns', { state });
    expect([excluded('exhausted'), excluded('committed')]).toEqual([1, 0]);
    expect(metricValue(text, 'adfunnel_retrieval_budget_state_stale')).toBe(0);
    expect(metricValue(text, 'adfunnel_retrieval_answers_total', { outcome: 'candidates' })).toBeGreaterThan(
      0,
    );
  });

  describe('with Redis unreachable', () => {
    let offline: TestStage;

    beforeAll(async () => {
      offline = await startTestStage({
        name: 'retrieval_offline',
        queueGroup: QueueGroups.retrieval,
        module: (env) =>
          RetrievalModule.forRoot(
            parseConfig(RetrievalConfigSchema, {
              ...env,
              SQLITE_PATH: catalog.sqlitePath,
              // Nothing listens on port 1.
              REDIS_URL: 'redis://127.0.0.1:1',
              BUDGET_KEY_PREFIX: prefix,
              BUDGET_REFRESH_MS: String(REFRESH_MS),
            }),
          ),
      });
    });

    afterAll(async () => {
      await offline?.close();
    });

    it('keeps serving candidates and says on /health that the budget state is not loaded', async () => {
      const request = requestFactory(2);
      const response = await offline.bus.call(Rpc.retrievalCandidates, request);
      expect(response.adIds).toHaveLength(100);

      const { status, body } = await health(offline);
      expect(status).toBe(503);
      expect(body.error?.['budget']).toMatchObject({
        status: 'down',
        message: expect.stringContaining('budget state not loaded yet'),
      });
      expect(body.error?.['redis']).toMatchObject({ status: 'down' });
      expect(body.info?.['index']).toMatchObject({ status: 'up' });
      const text = await (await fetch(`${offline.url}/metrics`)).text();
      expect(metricValue(text, 'adfunnel_retrieval_budget_state_stale')).toBe(1);
      const candidates = (source: string) =>
        metricValue(text, 'adfunnel_retrieval_candidates_total', { surface: request.surface, source }) ?? 0;
      const bySource = new Map<string, number>();
      for (const source of response.sources) bySource.set(source, (bySource.get(source) ?? 0) + 1);
      for (const [source, n] of bySource) expect(candidates(source)).toBe(n);
    });
  });
});
