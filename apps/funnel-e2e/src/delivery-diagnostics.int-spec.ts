import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdResponse } from '@adfunnel/contracts';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import {
  TEST_NATS_URL,
  TEST_REDIS_URL,
  deleteRedisKeys,
  eventually,
  postgresTestSchema,
} from '@adfunnel/testing';
import pg from 'pg';
import { ROOT, runCatalogCli } from './support/test-funnel.js';

const BASE_PORT = 4350;

interface Diagnostics {
  campaignId: number;
  window: { minutes: number; requestedMinutes: number; from: string; since: string | null };
  serving: boolean;
  status: { campaign: string; budget: { spendMicros: number; dailyBudgetMicros: number } };
  stages: {
    requests: number;
    targetedInactive: number;
    targetedPaused: number;
    targetedEnded: number;
    eligible: number;
    budgetExhausted: number;
    frequencyCapped: number;
    retrieved: number;
    ranked: number;
    auction: { outbid: number; won: number; advertiserCapped: number; categoryCapped: number };
    served: number;
    impressions: number;
  };
  topReasons: { reason: string; count: number }[];
  diagnosis: string[];
  ads: { adId: number; served: number; impressions: number; outbid: number }[];
}

/** The campaigns the test sets up, each alone in a country of its own (so its story is its own). */
interface Cast {
  /** Paused as the advertiser API pauses (status paused, status_changed_at set), 5 minutes ago. */
  paused: number;
  /** Archived as the advertiser API archives (status ended, archived_at set), 10 minutes ago. */
  archived: number;
  overBudget: number;
  capped: number;
  outbid: number;
  winner: number;
  /** Another campaign of the winner's advertiser, in the winner's country: the advertiser cap's. */
  sibling: number;
}

/**
 * A whole funnel whose catalog has a paused campaign, one with a budget a few impressions spend, one
 * capped at one serve per user, and one that a richer campaign outbids in every auction; requests
 * are driven through the gateway (impressions reported), and GET /v1/diagnostics/campaigns/:id on
 * logging must tell each campaign's story in words and numbers.
 */
describe('delivery diagnostics over a real funnel', () => {
  const suffix = randomBytes(6).toString('hex');
  // Redis keys and bus subjects under adfh-diag-…; the PostgreSQL schema cannot hold a hyphen.
  const runId = `adfh-diag-${suffix}`;
  const schema = postgresTestSchema(`adfh_diag_${suffix}`);
  const db = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*/, '') });
  const output: string[] = [];
  const keysDir = mkdtempSync(join(tmpdir(), 'adfh-diag-'));
  const env: Record<string, string> = {
    ...isolatedFunnelEnv({ runId, basePort: BASE_PORT, deadlineMs: 3000, stageTimeoutMs: 1500 }),
    DATABASE_URL: schema.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    NATS_URL: TEST_NATS_URL,
    DELIVERY_FLUSH_MS: '200',
    BUDGET_REFRESH_MS: '200',
    // The default cap would cap the other campaigns too; only the capped one has a cap.
    FREQUENCY_CAP_DEFAULT: '0',
  };
  let launcher: FunnelLauncher;
  let cast: Cast;
  let archivedAt: number;
  let pausedAt: number;
  let advertiserOf: Map<number, number>;
  let users = 0;

  beforeAll(async () => {
    runCatalogCli(schema.databaseUrl, ['migrate']);
    runCatalogCli(schema.databaseUrl, ['seed', '--advertisers', '12', '--ads', '240', '--users', '40']);
    await db.connect();
    await db.query(`SET search_path TO ${schema.schema}`);
    // One campaign each of five advertisers, every one with an active ad.
    const { rows } = await db.query<{ id: number; advertiser_id: number }>(
      `SELECT DISTINCT ON (c.advertiser_id) c.id, c.advertiser_id
         FROM campaigns c JOIN ads a ON a.campaign_id = c.id AND a.status = 'active'
        ORDER BY c.advertiser_id, c.id LIMIT 5`,
    );
    expect(rows).toHaveLength(5);
    advertiserOf = new Map(rows.map((r) => [r.id, r.advertiser_id]));
    const [paused, overBudget, capped, outbid, winner] = rows.map((r) => r.id);
    const siblings = await db.query<{ id: number }>(
      `SELECT c.id FROM campaigns c
        WHERE c.advertiser_id = $1 AND c.id <> $2
          AND EXISTS (SELECT 1 FROM ads a WHERE a.campaign_id = c.id AND a.status = 'active')
        ORDER BY c.id LIMIT 1`,
      [advertiserOf.get(winner), winner],
    );
    expect(siblings.rows).toHaveLength(1);
    const others = await db.query<{ id: number }>(
      `SELECT c.id FROM campaigns c
        WHERE c.id <> ALL($1::int[])
          AND EXISTS (SELECT 1 FROM ads a WHERE a.campaign_id = c.id AND a.status = 'active')
        ORDER BY c.id LIMIT 1`,
      [[...rows.map((r) => r.id), siblings.rows[0].id]],
    );
    expect(others.rows).toHaveLength(1);
    cast = {
      paused,
      archived: others.rows[0].id,
      overBudget,
      capped,
      outbid,
      winner,
      sibling: siblings.rows[0].id,
    };
    const set = (
      id: number,
      campaign: { status?: string; country: string; bid: number; budget?: number; cap?: number },
    ) =>
      db.query(
        `UPDATE campaigns SET bid_type = 'CPM', pacing = 'asap', reserve_cpm = NULL, target_devices = '[]',
                status = $2, target_countries = $3, bid = $4, daily_budget = $5, frequency_cap = $6,
                frequency_window_hours = $7
          WHERE id = $1`,
        [
          id,
          campaign.status ?? 'active',
          JSON.stringify([campaign.country]),
          campaign.bid,
          campaign.budget ?? 1000,
          campaign.cap ?? null,
          campaign.cap === undefined ? null : 24,
        ],
      );
    await set(paused, { status: 'paused', country: 'IS', bid: 2000 });
    pausedAt = Date.now() - 5 * 60_000;
    await db.query('UPDATE campaigns SET status_changed_at = $2 WHERE id = $1', [paused, pausedAt]);
    await set(cast.archived, { status: 'ended', country: 'PT', bid: 2000 });
    archivedAt = Date.now() - 10 * 60_000;
    await db.query('UPDATE campaigns SET archived_at = $2, status_changed_at = $2 WHERE id = $1', [
      cast.archived,
      archivedAt,
    ]);
    await set(overBudget, { country: 'IE', bid: 2000, budget: 3 });
    await set(capped, { country: 'CA', bid: 2000, cap: 1 });
    await set(outbid, { country: 'NZ', bid: 1000 });
    await set(winner, { country: 'NZ', bid: 3000 });
    // Richer than the outbid one, but one ad per advertiser an answer: the winner's ad takes its place.
    await set(cast.sibling, { country: 'NZ', bid: 2000 });
    // Only the winner's advertiser has a key; the test reads the others as the operator.
    runCatalogCli(schema.databaseUrl, [
      'api-keys',
      'issue',
      '--advertiser',
      String(advertiserOf.get(outbid)),
      '--label',
      'diagnostics-test',
      '--out',
      join(keysDir, 'keys.json'),
    ]);
    launcher = new FunnelLauncher({
      root: ROOT,
      env,
      onLine: (app, line) => {
        output.push(`${app}: ${line}`);
        if (output.length > 300) output.shift();
      },
      readyTimeoutMs: 90_000,
    });
    try {
      await launcher.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${output.join('\n')}`, {
        cause: err,
      });
    }
  }, 240_000);

  afterAll(async () => {
    await launcher?.stopAll();
    await db.end().catch(() => undefined);
    await schema.drop().catch(() => undefined);
    await deleteRedisKeys(runId);
    rmSync(keysDir, { recursive: true, force: true });
  }, 60_000);

  const adminToken = () => env['ADMIN_TOKEN'];

  async function diagnostics(
    campaignId: number | string,
    { token = adminToken(), query = '' }: { token?: string | null; query?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${launcher.url('logging')}/v1/diagnostics/campaigns/${campaignId}${query}`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function diagnosisOf(campaignId: number): Promise<Diagnostics> {
    const { status, body } = await diagnostics(campaignId);
    expect(status).toBe(200);
    return body as unknown as Diagnostics;
  }

  /** The answer's words, in the test output: what an advertiser would read. */
  function show(role: string, d: Diagnostics): void {
    process.stdout.write(`${role} campaign ${d.campaignId}:\n  ${d.diagnosis.join('\n  ')}\n`);
  }

  /** Polls the campaign's diagnostics until `done` accepts them (the counts are flushed every 200 ms). */
  function diagnosedUntil(campaignId: number, done: (d: Diagnostics) => boolean): Promise<Diagnostics> {
    return eventually(`diagnostics of campaign ${campaignId}`, () => diagnosisOf(campaignId), done, {
      timeoutMs: 15_000,
      intervalMs: 250,
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${output.slice(-40).join('\n')}`, {
        cause: err,
      });
    });
  }

  const beyondTargeting = (d: Diagnostics) => d.topReasons.filter((r) => r.reason !== 'targeting');

  /** One ad request from `country` (a fresh user unless given); its impressions are reported. */
  async function request(country: string, userId = `u${String(users++ % 40).padStart(5, '0')}`) {
    const res = await fetch(`${launcher.url('gateway')}/v1/ads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, surface: 'home_feed', country, device: 'mobile', slots: 1 }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as AdResponse;
    for (const ad of answer.ads) {
      const impression = await fetch(ad.tracking.impressionUrl);
      await impression.arrayBuffer();
      expect(impression.status).toBe(204);
    }
    return answer;
  }

  /** An instant as the diagnosis tells it: HH:MM on YYYY-MM-DD in the advertiser's time zone. */
  function toldAt(epochMs: number, d: Diagnostics): string {
    const { timezone } = (d.status as unknown as { budget: { timezone: string } }).budget;
    const clock = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(epochMs);
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(epochMs);
    return `${clock} on ${day} (${timezone})`;
  }

  it('explains a paused campaign by its status and since when, before any request and with the requests it missed', async () => {
    const idle = await diagnosisOf(cast.paused);
    expect(idle.status.campaign).toBe('paused');
    expect(idle.diagnosis[0]).toContain(
      `campaign ${cast.paused} was paused by the advertiser at ${toldAt(pausedAt, idle)}: it takes part in no auction until it is set active again`,
    );

    for (let i = 0; i < 6; i++) await request('IS');
    const sut = await diagnosedUntil(cast.paused, (d) => d.stages.targetedPaused >= 6);
    expect(sut.serving).toBe(false);
    expect(sut.stages.eligible).toBe(0);
    expect(sut.stages.targetedInactive).toBe(sut.stages.targetedPaused);
    expect(sut.diagnosis[0]).toBe(
      `campaign ${cast.paused} was paused by the advertiser at ${toldAt(pausedAt, sut)}: it takes part in no auction until it is set active again: its targeting matched ${sut.stages.targetedPaused} of the ${sut.stages.requests} ad requests in the last hour while it was paused`,
    );
    // Its misses are the pause's, not its targeting's nor a missing active ad's.
    expect(sut.topReasons[0]).toMatchObject({ reason: 'paused', count: sut.stages.targetedPaused });
    expect(sut.topReasons.map((r) => r.reason)).not.toContain('no_active_ads');
    show('paused', sut);
  });

  it('explains an archived campaign as archived, since when, with the requests it missed', async () => {
    for (let i = 0; i < 4; i++) await request('PT');
    const sut = await diagnosedUntil(cast.archived, (d) => d.stages.targetedEnded >= 4);
    expect(sut.serving).toBe(false);
    expect(sut.status.campaign).toBe('archived');
    expect(sut.stages.eligible).toBe(0);
    const clock = new Intl.DateTimeFormat('en-GB', {
      timeZone: (sut.status as unknown as { budget: { timezone: string } }).budget.timezone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(archivedAt);
    expect(sut.diagnosis[0]).toMatch(
      new RegExp(
        `^campaign ${cast.archived} was archived by the advertiser at ${clock} on \\d{4}-\\d\\d-\\d\\d \\(.+\\): it takes part in no auction and cannot be set active again: its targeting matched ${sut.stages.targetedEnded} of the ${sut.stages.requests} ad requests in the last hour while it was archived$`,
      ),
    );
    // The other tests' requests are its targeting's misses; of its own, archiving kept it out.
    expect(beyondTargeting(sut)[0]).toMatchObject({ reason: 'archived', count: sut.stages.targetedEnded });
    show('archived', sut);
  });

  it('explains an over-budget campaign with its spend against its daily budget', async () => {
    let served = 0;
    for (let i = 0; i < 40 && served < 30; i++) {
      const answer = await request('IE');
      served += answer.ads.filter((ad) => ad.campaignId === cast.overBudget).length;
      if (i >= 3 && i % 3 === 0) {
        const d = await diagnosisOf(cast.overBudget);
        if (d.stages.budgetExhausted > 0) break;
      }
    }
    for (let i = 0; i < 3; i++) await request('IE');
    const sut = await diagnosedUntil(cast.overBudget, (d) => d.stages.budgetExhausted > 0);
    expect(sut.stages.served).toBeGreaterThan(0);
    expect(sut.stages.impressions).toBeGreaterThan(0);
    expect(sut.status.budget.dailyBudgetMicros).toBe(3_000_000);
    expect(sut.status.budget.spendMicros).toBeGreaterThan(0);
    const sentence = sut.diagnosis.find((s) => s.startsWith('daily budget spent: '));
    expect(sentence).toMatch(
      /^daily budget spent: \$\d\.\d\d of \$3\.00 .*left out of \d+ of the \d+ requests? it was eligible for$/,
    );
    expect(sut.topReasons.map((r) => r.reason)).toContain('budget_exhausted');
    show('over-budget', sut);
  });

  it('explains a frequency-capped campaign with the requests its cap kept it out of', async () => {
    const user = 'u00039';
    const first = await request('CA', user);
    expect(first.ads.map((ad) => ad.campaignId)).toEqual([cast.capped]);
    const sut = await eventually(
      'the capped campaign counted as capped',
      async () => {
        await request('CA', user);
        return diagnosisOf(cast.capped);
      },
      (d) => d.stages.frequencyCapped >= 2,
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(sut.stages.served).toBe(1);
    expect(sut.diagnosis).toContainEqual(
      expect.stringMatching(
        /^its frequency cap \(1 serve per user per 24 h\) reached: the user had seen it enough in \d+ of the \d+ requests it was eligible for within budget/,
      ),
    );
    // The requests from other countries are its targeting's; of the rest, the cap kept it out most.
    expect(beyondTargeting(sut)[0].reason).toBe('frequency_capped');
    show('capped', sut);
  });

  it('explains an outbid campaign with its eCPM against the winner’s', async () => {
    for (let i = 0; i < 6; i++) {
      const answer = await request('NZ');
      expect(answer.ads.map((ad) => ad.campaignId)).toEqual([cast.winner]);
    }
    // Retrieval and the auction flush on their own clocks: wait for both stages' counts.
    const sut = await diagnosedUntil(
      cast.outbid,
      (d) => d.stages.auction.outbid >= 6 && d.stages.retrieved >= 6,
    );
    expect(sut.serving).toBe(false);
    expect(sut.stages.auction.won).toBe(0);
    expect(sut.stages.retrieved).toBeGreaterThanOrEqual(6);
    expect(sut.diagnosis).toContainEqual(
      expect.stringMatching(
        /^outbid in \d+ of \d+ auctions: its best ad's eCPM averaged \$1000\.00 against \$3000\.00 for the lowest winning ad$/,
      ),
    );
    expect(beyondTargeting(sut)[0].reason).toBe('outbid');
    show('outbid', sut);
    expect(sut.ads[0].outbid).toBeGreaterThanOrEqual(1);
    const winner = await diagnosisOf(cast.winner);
    expect(winner.serving).toBe(true);
    expect(winner.stages.auction.won).toBeGreaterThanOrEqual(6);
  });

  it("explains a campaign its advertiser's other campaign keeps out by the advertiser cap", async () => {
    // The outbid test's NZ requests: the winner's ad was its advertiser's one ad in each answer.
    const sut = await diagnosedUntil(cast.sibling, (d) => d.stages.auction.advertiserCapped >= 6);
    expect(sut.serving).toBe(false);
    expect(sut.stages.auction).toMatchObject({ won: 0, outbid: 0, categoryCapped: 0 });
    expect(sut.diagnosis).toContainEqual(
      expect.stringMatching(
        /^lost \d+ of \d+ auctions: left out for better ads of its advertiser's other campaigns by the limit on one advertiser's ads per answer \(AUCTION_MAX_ADS_PER_ADVERTISER\) in \d+$/,
      ),
    );
    expect(beyondTargeting(sut)[0].reason).toBe('advertiser_capped');
    show('advertiser-capped', sut);
  });

  it('counts a campaign created within the window only since its creation, and says so', async () => {
    const before = await diagnosisOf(cast.winner);
    expect(before.window.since).toBeNull();
    // As if the winner had been created just now: the requests of the tests before are not its own.
    const createdAt = Date.now();
    await db.query('UPDATE campaigns SET created_at = $2 WHERE id = $1', [cast.winner, createdAt]);
    for (let i = 0; i < 3; i++) await request('NZ');
    const sut = await diagnosedUntil(cast.winner, (d) => d.stages.served >= 3);
    expect(sut.window).toMatchObject({
      requestedMinutes: 60,
      from: new Date(createdAt).toISOString(),
      since: 'campaign_created',
    });
    expect(sut.window.minutes).toBeLessThanOrEqual(2);
    expect(sut.stages.requests).toBeLessThan(before.stages.requests);
    expect(sut.diagnosis[0]).toMatch(
      new RegExp(
        `^counted since campaign ${cast.winner} was created at \\d\\d:\\d\\d \\(.+\\), not over the hour asked for`,
      ),
    );
    expect(sut.diagnosis.at(-1)).toMatch(/^it served \d+ ads since it was created: /);
    show('just created', sut);
  });

  it("lets an advertiser read its own campaign's diagnostics only, and names a bad window", async () => {
    const keys = JSON.parse(readFileSync(join(keysDir, 'keys.json'), 'utf8')) as { keys: { key: string }[] };
    const key = keys.keys[0].key;
    expect((await diagnostics(cast.outbid, { token: key })).status).toBe(200);
    const other = await diagnostics(cast.winner, { token: key });
    expect(other.status).toBe(404);
    expect(other.body['message']).toContain(`has no campaign ${cast.winner}`);
    expect((await diagnostics(cast.outbid, { token: null })).status).toBe(401);
    const zero = await diagnostics(cast.outbid, { query: '?minutes=0' });
    expect(zero.status).toBe(400);
    expect(zero.body['message']).toContain('minutes must be a whole number from 1 to 60');
    const words = await diagnostics(cast.outbid, { query: '?window=2h' });
    expect(words.status).toBe(400);
    expect(words.body['message']).toContain('unknown query parameter "window"');
    expect((await diagnostics('abc')).status).toBe(400);
    expect((await diagnostics(99_999_999)).status).toBe(404);
  });
});
