import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AdEntity,
  AdvertiserApiKeyEntity,
  AdvertiserApiKeyService,
  AdvertiserEntity,
  CampaignEntity,
  apiKeyHash,
  catalogChangeMark,
} from '@adfunnel/catalog';
import { CampaignDaySpendEntity, migrateFunnelDatabase, openFunnelDatabase } from '@adfunnel/event-store';
import { EMBEDDING_DIM } from '@adfunnel/features';
import { parseConfig, startService } from '@adfunnel/platform';
import { testDatabaseKinds } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DataSource } from 'typeorm';
import { advertiserServiceOptions } from './advertiser-service.js';
import { AdvertiserConfigSchema } from './config.js';

const ADMIN_TOKEN = 'advertiser-int-spec-operator-0123456789';
const CREATED = Date.UTC(2025, 0, 1);
const ACME = 1;
const OTHER = 2;
/** Ports of this spec's services (4200-4249 belong to the advertiser API's tests). */
const PORTS = { SQLite: 4210, PostgreSQL: 4211, rateLimited: 4212 };

Logger.overrideLogger(['error']);

const unit = (v: number[]) => {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};
/** An existing electronics ad of the other advertiser: the centroid a new electronics ad starts from. */
const ELECTRONICS = unit(Array.from({ length: EMBEDDING_DIM }, (_, d) => (d % 3) - 1 + 0.5));
const GARDEN = unit(Array.from({ length: EMBEDDING_DIM }, (_, d) => (d % 4 === 0 ? 1 : 0.1)));

const campaignBody = (over: Record<string, unknown> = {}) => ({
  name: 'Acme spring sale',
  bidType: 'CPC',
  bid: 0.9,
  dailyBudget: 250,
  targetCountries: ['US', 'CA'],
  targetDevices: ['mobile'],
  pacing: 'asap',
  frequencyCap: 4,
  frequencyWindowHours: 24,
  clickWindowDays: 14,
  reserveCpm: 1.5,
  ...over,
});
const adBody = (over: Record<string, unknown> = {}) => ({
  title: 'Acme: noise-cancelling headphones',
  text: 'Forty hours of quiet, folded in your pocket.',
  category: 'electronics',
  landingUrl: 'https://acme.example.com/headphones',
  imageUrl: 'https://img.example.com/acme/headphones.jpg',
  ...over,
});

/** The value of the sample of `name` whose labels are exactly `labels` (in any order); undefined: none. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const present = match[2].split(/,(?=[a-z_]+=")/);
    if (present.length === wanted.length && wanted.every((label) => present.includes(label))) {
      return Number(match[3]);
    }
  }
  return undefined;
}

async function prepare(database: Parameters<typeof openFunnelDatabase>[0]) {
  const setup = await openFunnelDatabase(database);
  try {
    await migrateFunnelDatabase(setup);
    await setup.getRepository(AdvertiserEntity).save([
      { id: ACME, name: 'Acme', createdAt: CREATED },
      { id: OTHER, name: 'Other', createdAt: CREATED },
    ]);
    await setup.getRepository(CampaignEntity).save({
      id: 7,
      advertiserId: OTHER,
      name: "Other's campaign",
      status: 'active',
      bidType: 'CPM',
      bid: 3,
      dailyBudget: 100,
      targetCountries: [],
      targetDevices: [],
      createdAt: CREATED,
    });
    const otherAd = {
      campaignId: 7,
      advertiserId: OTHER,
      text: 'An ad.',
      imageUrl: 'https://img.example.com/other.jpg',
      landingUrl: 'https://other.example.com/',
      status: 'active' as const,
      createdAt: CREATED,
    };
    await setup.getRepository(AdEntity).save([
      { ...otherAd, id: 69, title: 'Other: rake', category: 'garden', embedding: Float32Array.from(GARDEN) },
      {
        ...otherAd,
        id: 70,
        title: 'Other: tablet',
        category: 'electronics',
        embedding: Float32Array.from(ELECTRONICS),
      },
    ]);
    const keys = await new AdvertiserApiKeyService(setup).issue([ACME, OTHER], 'test');
    return { acme: keys[0].key, other: keys[1].key };
  } finally {
    await setup.destroy();
  }
}

async function startAdvertiserApi(env: Record<string, string>): Promise<NestFastifyApplication> {
  const config = parseConfig(AdvertiserConfigSchema, {
    ADMIN_TOKEN,
    LOG_LEVEL: 'error',
    CATALOG_REFRESH_MS: '0',
    ...env,
  });
  return startService({ ...advertiserServiceOptions(config, { docs: false }), logger: new Logger() });
}

describe.each(testDatabaseKinds('advertiser_api').map((kind) => [kind.name, kind] as const))(
  'the advertiser API on %s',
  (name, kind) => {
    let app: NestFastifyApplication;
    let db: DataSource;
    let drop: () => Promise<void>;
    let keys: { acme: string; other: string };
    const base = `http://127.0.0.1:${PORTS[name]}`;
    const acme = () => `Bearer ${keys.acme}`;
    const other = () => `Bearer ${keys.other}`;
    const operator = `Bearer ${ADMIN_TOKEN}`;

    async function call(
      method: string,
      path: string,
      authorization: string | null,
      body?: unknown,
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(authorization === null ? {} : { authorization }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }
    const createCampaign = async (over: Record<string, unknown> = {}, authorization = acme()) => {
      const res = await call('POST', '/v1/campaigns', authorization, campaignBody(over));
      expect(res.status).toBe(201);
      return res.body as { id: number } & Record<string, unknown>;
    };

    beforeAll(async () => {
      const target = await kind.create();
      drop = target.drop;
      keys = await prepare(target.database);
      db = await openFunnelDatabase(target.database);
      app = await startAdvertiserApi({ ...target.env, ADVERTISER_PORT: String(PORTS[name]) });
    });

    afterAll(async () => {
      await app?.close();
      await db?.destroy();
      await drop?.();
    });

    it('wants an API key or the admin token', async () => {
      const none = await call('GET', '/v1/campaigns', null);
      expect(none).toEqual({ status: 401, body: expect.objectContaining({ code: 'unauthenticated' }) });
      expect(none.body['message']).toContain('Authorization: Bearer <API key>');
      const unknown = await call('GET', '/v1/campaigns', `Bearer adf_live_${'x'.repeat(43)}`);
      expect(unknown.status).toBe(401);
      expect(unknown.body['message']).toBe('the API key is not a key we issued');
    });

    it('creates, reads, lists, updates, pauses, resumes and archives a campaign', async () => {
      const created = await createCampaign();
      expect(created).toEqual({
        id: 8,
        advertiserId: ACME,
        status: 'active',
        ...campaignBody(),
        createdAt: expect.any(String),
        archivedAt: null,
        statusChangedAt: created['createdAt'],
      });
      expect(await call('GET', `/v1/campaigns/${created.id}`, acme())).toEqual({
        status: 200,
        body: created,
      });

      const updated = await call('PATCH', `/v1/campaigns/${created.id}`, acme(), {
        dailyBudget: 400,
        bid: 1.2,
        targetCountries: [],
        frequencyCap: null,
        frequencyWindowHours: null,
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        dailyBudget: 400,
        bid: 1.2,
        targetCountries: [],
        targetDevices: ['mobile'],
        frequencyCap: null,
      });
      const row = await db.getRepository(CampaignEntity).findOneByOrFail({ id: created.id });
      expect(row).toMatchObject({ dailyBudget: 400, bid: 1.2, targetCountries: [], pacing: 'asap' });

      const path = `/v1/campaigns/${created.id}`;
      const paused = (await call('POST', `${path}/pause`, acme())).body;
      expect(paused['status']).toBe('paused');
      // The pause's time is kept (the delivery diagnosis tells it); pausing again changes nothing.
      const pausedAt = Date.parse(paused['statusChangedAt'] as string);
      expect(pausedAt).toBeGreaterThanOrEqual(Date.parse(created['createdAt'] as string));
      expect((await call('POST', `${path}/pause`, acme())).body).toMatchObject({
        status: 'paused',
        statusChangedAt: paused['statusChangedAt'],
      });
      expect(
        (await db.getRepository(CampaignEntity).findOneByOrFail({ id: created.id })).statusChangedAt,
      ).toBe(pausedAt);
      expect((await call('GET', '/v1/campaigns?status=paused', acme())).body['campaigns']).toEqual([
        expect.objectContaining({ id: created.id }),
      ]);
      const resumed = (await call('POST', `${path}/resume`, acme())).body;
      expect(resumed['status']).toBe('active');
      expect(Date.parse(resumed['statusChangedAt'] as string)).toBeGreaterThanOrEqual(pausedAt);
      const archived = await call('POST', `${path}/archive`, acme());
      expect(archived.body).toMatchObject({ status: 'archived', archivedAt: expect.any(String) });
      expect(archived.body['statusChangedAt']).toBe(archived.body['archivedAt']);
      // Out of serving: the status serving reads is ended.
      expect(await db.getRepository(CampaignEntity).findOneByOrFail({ id: created.id })).toMatchObject({
        status: 'ended',
      });
      expect(await call('POST', `${path}/resume`, acme())).toEqual({
        status: 409,
        body: expect.objectContaining({ code: 'conflict', reason: 'archived' }),
      });
      expect((await call('PATCH', path, acme(), { bid: 2 })).status).toBe(409);
      const listed = (await call('GET', '/v1/campaigns', acme())).body['campaigns'] as { id: number }[];
      expect(listed.map((c) => c.id)).not.toContain(created.id);
      const withArchived = (await call('GET', '/v1/campaigns?status=archived', acme())).body['campaigns'];
      expect(withArchived).toEqual([expect.objectContaining({ id: created.id, status: 'archived' })]);
    });

    it('creates ads with an embedding derived from their category, and changes them', async () => {
      const campaign = await createCampaign({ name: 'Acme ads' });
      const ads = `/v1/campaigns/${campaign.id}/ads`;
      const created = await call('POST', ads, acme(), adBody());
      expect(created).toEqual({
        status: 201,
        body: {
          id: 71,
          campaignId: campaign.id,
          advertiserId: ACME,
          status: 'active',
          ...adBody(),
          createdAt: expect.any(String),
          archivedAt: null,
        },
      });
      const row = await db.getRepository(AdEntity).findOneByOrFail({ id: 71 });
      // The only electronics ad so far is the other advertiser's tablet: its unit embedding is the centroid.
      expect(Array.from(row.embedding)).toEqual(ELECTRONICS.map((x) => expect.closeTo(x, 5)));

      const recategorised = await call('PATCH', `${ads}/71`, acme(), {
        category: 'garden',
        title: 'Acme: hose',
      });
      expect(recategorised.body).toMatchObject({ category: 'garden', title: 'Acme: hose' });
      const moved = await db.getRepository(AdEntity).findOneByOrFail({ id: 71 });
      // The embedding follows the category: now the garden centroid, the other advertiser's rake.
      expect(Array.from(moved.embedding)).toEqual(GARDEN.map((x) => expect.closeTo(x, 5)));

      expect((await call('POST', `${ads}/71/pause`, acme())).body['status']).toBe('paused');
      expect((await call('POST', `${ads}/71/resume`, acme())).body['status']).toBe('active');
      expect((await call('GET', ads, acme())).body['ads']).toEqual([expect.objectContaining({ id: 71 })]);
      expect((await call('POST', `${ads}/71/archive`, acme())).body['status']).toBe('archived');
      expect((await call('GET', ads, acme())).body['ads']).toEqual([]);
      expect((await call('PATCH', `${ads}/71`, acme(), { title: 'again' })).status).toBe(409);
      // An ad is addressed through its own campaign only.
      expect((await call('GET', `/v1/campaigns/7/ads/71`, operator)).status).toBe(404);
    });

    it("keeps every advertiser out of another's campaigns and ads: 404 by id, 403 by advertiser", async () => {
      const mine = await createCampaign({ name: 'Acme private' });
      const ad = (await call('POST', `/v1/campaigns/${mine.id}/ads`, acme(), adBody())).body as {
        id: number;
      };
      const path = `/v1/campaigns/${mine.id}`;
      const notFound = { status: 404, body: expect.objectContaining({ code: 'not_found' }) };

      expect(await call('GET', path, other())).toEqual(notFound);
      expect(await call('PATCH', path, other(), { bid: 99 })).toEqual(notFound);
      for (const change of ['pause', 'resume', 'archive']) {
        expect(await call('POST', `${path}/${change}`, other())).toEqual(notFound);
        expect(await call('POST', `${path}/ads/${ad.id}/${change}`, other())).toEqual(notFound);
      }
      expect(await call('GET', `${path}/ads`, other())).toEqual(notFound);
      expect(await call('GET', `${path}/ads/${ad.id}`, other())).toEqual(notFound);
      expect(await call('PATCH', `${path}/ads/${ad.id}`, other(), { title: 'x' })).toEqual(notFound);
      expect(await call('POST', `${path}/ads`, other(), adBody())).toEqual(notFound);
      // The same answer as for a campaign that does not exist.
      expect((await call('GET', '/v1/campaigns/999999', other())).body['message']).toBe(
        'campaign 999999 not found',
      );
      expect((await call('GET', path, other())).body['message']).toBe(`campaign ${mine.id} not found`);

      const theirs = (await call('GET', '/v1/campaigns', other())).body['campaigns'] as {
        advertiserId: number;
      }[];
      expect(theirs.map((c) => c.advertiserId)).toEqual([OTHER]);
      const forbidden = { status: 403, body: expect.objectContaining({ code: 'forbidden' }) };
      expect(await call('GET', `/v1/campaigns?advertiserId=${ACME}`, other())).toEqual(forbidden);
      expect(await call('POST', '/v1/campaigns', other(), campaignBody({ advertiserId: ACME }))).toEqual(
        forbidden,
      );
      expect(
        await call('GET', `/v1/reports/campaigns?from=2026-12-01&advertiserId=${ACME}`, other()),
      ).toEqual(forbidden);

      const row = await db.getRepository(CampaignEntity).findOneByOrFail({ id: mine.id });
      expect(row).toMatchObject({ status: 'active', bid: 0.9 });
    });

    it('lets an operator act on any advertiser, naming it to create', async () => {
      const all = (await call('GET', '/v1/campaigns', operator)).body['campaigns'] as {
        advertiserId: number;
      }[];
      expect(new Set(all.map((c) => c.advertiserId))).toEqual(new Set([ACME, OTHER]));
      const onlyOther = (await call('GET', `/v1/campaigns?advertiserId=${OTHER}`, operator)).body[
        'campaigns'
      ];
      expect(onlyOther).toEqual([expect.objectContaining({ id: 7, advertiserId: OTHER })]);
      const unnamed = await call('POST', '/v1/campaigns', operator, campaignBody());
      expect(unnamed).toEqual({
        status: 400,
        body: expect.objectContaining({ message: 'advertiserId: is required when an operator acts' }),
      });
      const forOther = await createCampaign({ advertiserId: OTHER, status: 'paused' }, operator);
      expect(forOther).toMatchObject({ advertiserId: OTHER, status: 'paused' });
      expect((await call('GET', `/v1/campaigns/${forOther.id}`, other())).status).toBe(200);
      expect((await call('POST', '/v1/campaigns', operator, campaignBody({ advertiserId: 99 }))).status).toBe(
        404,
      );
    });

    it('refuses bad requests with 4xx naming the field', async () => {
      const bad = async (body: unknown) => call('POST', '/v1/campaigns', acme(), body);
      expect((await bad(campaignBody({ bidType: 'CPX' }))).body['message']).toMatch(/^bidType: /);
      expect((await bad(campaignBody({ bid: -1 }))).body['message']).toBe(
        'bid: expected a number of USD above 0',
      );
      expect((await bad(campaignBody({ targetCountries: ['us'] }))).body['message']).toMatch(
        /^targetCountries\[0\]: must be an ISO 3166-1 alpha-2/,
      );
      expect((await bad(campaignBody({ colour: 'red' }))).body['message']).toBe('unknown field "colour"');
      expect(
        (await bad(campaignBody({ frequencyCap: null, frequencyWindowHours: 12 }))).body['message'],
      ).toMatch(/^frequencyWindowHours: needs a frequencyCap/);
      const { name: _name, ...nameless } = campaignBody();
      expect(await bad(nameless)).toEqual({
        status: 400,
        body: expect.objectContaining({ code: 'invalid_request', message: 'name: is required' }),
      });
      const campaign = await createCampaign({ name: 'for bad ads' });
      const badAd = await call(
        'POST',
        `/v1/campaigns/${campaign.id}/ads`,
        acme(),
        adBody({ landingUrl: 'ftp://x' }),
      );
      expect(badAd).toEqual({
        status: 400,
        body: expect.objectContaining({ message: 'landingUrl: expected an http(s) URL' }),
      });
      expect((await call('PATCH', `/v1/campaigns/${campaign.id}`, acme(), {})).body['message']).toMatch(
        /name at least one field to change/,
      );
      expect((await call('GET', '/v1/campaigns/abc', acme())).body['message']).toBe('expected a campaign id');
      const text = await fetch(`${base}/v1/campaigns`, {
        method: 'POST',
        headers: { authorization: acme(), 'content-type': 'text/plain' },
        body: 'name=x',
      });
      expect(text.status).toBe(415);
    });

    it('lists campaigns and ads a page at a time: limit (100 unless named), after, and next', async () => {
      const PAGED = 3;
      await db.getRepository(AdvertiserEntity).save({ id: PAGED, name: 'Paged', createdAt: CREATED });
      const [{ key }] = await new AdvertiserApiKeyService(db).issue([PAGED], 'test');
      const paged = `Bearer ${key}`;
      // 101 campaigns, seeded as prepare() seeds: one more than a page without a limit.
      const ids = Array.from({ length: 101 }, (_, i) => 5001 + i);
      await db.getRepository(CampaignEntity).insert(
        ids.map((id) => ({
          id,
          advertiserId: PAGED,
          name: `paged ${id}`,
          status: 'active' as const,
          bidType: 'CPM' as const,
          bid: 1,
          dailyBudget: 10,
          targetCountries: [],
          targetDevices: [],
          createdAt: CREATED,
        })),
      );
      const list = async (query: string, authorization = paged) => {
        const res = await call('GET', `/v1/campaigns?${query}`, authorization);
        expect(res.status).toBe(200);
        const ids = (res.body['campaigns'] as { id: number }[]).map((c) => c.id);
        return { ids, next: res.body['next'] as number | null };
      };

      const first = await list('');
      expect(first).toEqual({ ids: ids.slice(0, 100), next: 5100 });
      expect(await list(`after=${first.next}`)).toEqual({ ids: [5101], next: null });
      expect(await list(`advertiserId=${PAGED}`, operator)).toEqual(first);
      // A page that takes the rest exactly is the last: no empty page after it.
      expect(await list('limit=101')).toEqual({ ids, next: null });
      expect(await list('limit=1000')).toEqual({ ids, next: null });

      const pages: number[][] = [];
      const nexts: (number | null)[] = [];
      let after: number | null = null;
      do {
        const page = await list(`limit=40${after === null ? '' : `&after=${after}`}`);
        pages.push(page.ids);
        nexts.push(page.next);
        after = page.next;
      } while (after !== null && pages.length < 10);
      expect(pages.map((p) => p.length)).toEqual([40, 40, 21]);
      expect(nexts).toEqual([5040, 5080, null]);
      expect(pages.flat()).toEqual(ids);

      // The cursor is an id, not an offset: archiving a listed campaign does not shift the next page.
      expect(await list('limit=2')).toEqual({ ids: [5001, 5002], next: 5002 });
      expect((await call('POST', '/v1/campaigns/5001/archive', paged)).status).toBe(200);
      expect(await list('limit=2&after=5002')).toEqual({ ids: [5003, 5004], next: 5004 });
      expect(await list('status=archived&limit=1')).toEqual({ ids: [5001], next: null });

      const campaign = await createCampaign({ name: 'paged ads' }, paged);
      const adIds: number[] = [];
      for (let i = 0; i < 5; i++) {
        const created = await call('POST', `/v1/campaigns/${campaign.id}/ads`, paged, adBody());
        expect(created.status).toBe(201);
        adIds.push(created.body['id'] as number);
      }
      const adPages: unknown[] = [];
      after = null;
      do {
        const query = `limit=2${after === null ? '' : `&after=${after}`}`;
        const res = await call('GET', `/v1/campaigns/${campaign.id}/ads?${query}`, paged);
        expect(res.status).toBe(200);
        const page = {
          ids: (res.body['ads'] as { id: number }[]).map((a) => a.id),
          next: res.body['next'] as number | null,
        };
        adPages.push(page);
        after = page.next;
      } while (after !== null && adPages.length < 10);
      expect(adPages).toEqual([
        { ids: adIds.slice(0, 2), next: adIds[1] },
        { ids: adIds.slice(2, 4), next: adIds[3] },
        { ids: adIds.slice(4), next: null },
      ]);
      expect((await call('GET', `/v1/campaigns/${campaign.id}/ads`, paged)).body).toEqual({
        ads: adIds.map((id) => expect.objectContaining({ id })),
        next: null,
      });
    });

    it('refuses a bad limit or cursor with 400 naming the parameter', async () => {
      const badLimit = {
        status: 400,
        body: expect.objectContaining({
          code: 'invalid_request',
          message: 'limit: expected a whole number from 1 to 1000',
        }),
      };
      for (const limit of ['0', '1001', 'abc', '-1', '']) {
        expect(await call('GET', `/v1/campaigns?limit=${limit}`, acme())).toEqual(badLimit);
        expect(await call('GET', `/v1/campaigns/7/ads?limit=${limit}`, operator)).toEqual(badLimit);
      }
      expect((await call('GET', '/v1/campaigns?limit=2.5', acme())).body['message']).toBe(
        'limit: expected an integer',
      );
      expect(await call('GET', '/v1/campaigns?limit=1&limit=2', acme())).toEqual(badLimit);
      expect((await call('GET', '/v1/campaigns?after=abc', acme())).body['message']).toBe(
        'after: expected a campaign id',
      );
      expect((await call('GET', '/v1/campaigns/7/ads?after=0', operator)).body['message']).toBe(
        'after: expected an ad id',
      );
      expect((await call('GET', '/v1/campaigns?cursor=5', acme())).body['message']).toBe(
        'unknown field "cursor"',
      );
    });

    it('gives campaigns created at the same time ids of their own', async () => {
      const created = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          call('POST', '/v1/campaigns', acme(), campaignBody({ name: `race ${i}` })),
        ),
      );
      expect(created.map((r) => r.status)).toEqual(Array(16).fill(201));
      expect(new Set(created.map((r) => r.body['id'])).size).toBe(16);
    });

    it('marks the catalog changed on every write, for serving to reload', async () => {
      const before = await catalogChangeMark(db);
      const campaign = await createCampaign({ name: 'marks' });
      const afterCreate = await catalogChangeMark(db);
      expect(afterCreate).not.toBe(before);
      await call('POST', `/v1/campaigns/${campaign.id}/pause`, acme());
      expect(await catalogChangeMark(db)).not.toBe(afterCreate);
    });

    it("answers the ledger's campaign report for the key's advertiser", async () => {
      const report = await call('GET', '/v1/reports/campaigns?from=2026-12-01&to=2026-12-02', acme());
      expect(report).toEqual({
        status: 200,
        body: { from: '2026-12-01', to: '2026-12-02', advertiserId: ACME, campaigns: [] },
      });
      expect((await call('GET', '/v1/reports/campaigns', acme())).body['message']).toMatch(/^from: /);
    });

    it("answers 404 for a report of another advertiser's campaign, as for reading it, not an empty report", async () => {
      // The other advertiser's campaign 7 has a charged day in the ledger.
      await db.getRepository(CampaignDaySpendEntity).save({
        campaignId: 7,
        billingDay: '2026-12-01',
        advertiserId: OTHER,
        budgetMicros: 100_000_000,
        chargedMicros: 42_000_000,
        overdeliveredMicros: 0,
        entries: 3,
        updatedAt: CREATED,
      });
      const mine = await createCampaign({ name: 'Acme reported' });
      const report = (query: string, authorization: string) =>
        call('GET', `/v1/reports/campaigns?from=2026-12-01&${query}`, authorization);
      const notFound = (id: number) => ({
        status: 404,
        body: expect.objectContaining({ code: 'not_found', message: `campaign ${id} not found` }),
      });

      expect(await report(`campaignId=${mine.id}`, acme())).toEqual({
        status: 200,
        body: { from: '2026-12-01', to: '2026-12-01', advertiserId: ACME, campaigns: [] },
      });
      expect(await report('campaignId=7', acme())).toEqual(notFound(7));
      expect(await call('GET', '/v1/campaigns/7', acme())).toEqual(notFound(7));
      expect(await report('campaignId=999999', acme())).toEqual(notFound(999999));
      expect(await report(`campaignId=${mine.id}`, other())).toEqual(notFound(mine.id));

      const operators = await report('campaignId=7', operator);
      expect(operators.status).toBe(200);
      expect(operators.body['campaigns']).toEqual([
        expect.objectContaining({ campaignId: 7, advertiserId: OTHER, spendMicros: 42_000_000 }),
      ]);
      expect(await report('campaignId=999999', operator)).toEqual(notFound(999999));
      // An operator who names an advertiser reads only that advertiser's campaigns.
      expect(await report(`advertiserId=${ACME}&campaignId=7`, operator)).toEqual(notFound(7));
    });

    it('lets an operator onboard an advertiser and issue it a key that runs its own campaigns, until revoked', async () => {
      const mark = await catalogChangeMark(db);
      const created = await call('POST', '/v1/advertisers', operator, {
        name: ' Newco ',
        timezone: 'Europe/Paris',
      });
      expect(created).toEqual({
        status: 201,
        body: {
          id: expect.any(Number),
          name: 'Newco',
          timezone: 'Europe/Paris',
          createdAt: expect.any(String),
        },
      });
      const newco = created.body['id'] as number;
      expect(newco).toBeGreaterThan(OTHER);
      expect(await db.getRepository(AdvertiserEntity).findOneByOrFail({ id: newco })).toMatchObject({
        name: 'Newco',
        timezone: 'Europe/Paris',
      });
      expect(await call('GET', `/v1/advertisers/${newco}`, operator)).toEqual({
        status: 200,
        body: created.body,
      });
      expect((await call('POST', '/v1/advertisers', operator, { name: 'Utc' })).body).toMatchObject({
        id: newco + 1,
        timezone: 'UTC',
      });

      const issued = await call('POST', `/v1/advertisers/${newco}/api-keys`, operator, {
        label: 'production',
      });
      expect(issued).toEqual({
        status: 201,
        body: {
          key: expect.stringMatching(/^adf_live_[A-Za-z0-9_-]{43}$/),
          keyHash: expect.stringMatching(/^[0-9a-f]{64}$/),
          advertiserId: newco,
          label: 'production',
          status: 'active',
          createdAt: expect.any(String),
          revokedAt: null,
        },
      });
      const key = issued.body['key'] as string;
      const keyHash = issued.body['keyHash'] as string;
      expect(keyHash).toBe(apiKeyHash(key));
      // Only the hash is stored.
      const stored = JSON.stringify(
        await db.getRepository(AdvertiserApiKeyEntity).createQueryBuilder('k').getRawMany(),
      );
      expect(stored).toContain(keyHash);
      expect(stored).not.toContain(key.slice('adf_live_'.length));
      // Without a body the key is labelled "default".
      const spare = await call('POST', `/v1/advertisers/${newco}/api-keys`, operator);
      expect(spare.body).toMatchObject({ status: 'active', label: 'default', advertiserId: newco });
      // Nothing serving reads changed yet: no reload until the advertiser's first campaign.
      expect(await catalogChangeMark(db)).toBe(mark);
      const newcoKey = `Bearer ${key}`;
      const spareKey = `Bearer ${spare.body['key'] as string}`;

      expect(await call('GET', '/v1/advertisers/me', newcoKey)).toEqual({ status: 200, body: created.body });
      const campaign = await createCampaign({ name: 'Newco launch' }, newcoKey);
      expect(campaign).toMatchObject({ advertiserId: newco, status: 'active' });
      const path = `/v1/campaigns/${campaign.id}`;
      expect((await call('GET', path, newcoKey)).status).toBe(200);
      for (const stranger of [other(), acme()]) {
        expect(await call('GET', path, stranger)).toEqual({
          status: 404,
          body: expect.objectContaining({ message: `campaign ${campaign.id} not found` }),
        });
        const theirs = (await call('GET', '/v1/campaigns', stranger)).body['campaigns'] as { id: number }[];
        expect(theirs.map((c) => c.id)).not.toContain(campaign.id);
      }

      const listed = await call('GET', `/v1/advertisers/${newco}/api-keys`, operator);
      expect(listed).toEqual({
        status: 200,
        body: {
          apiKeys: expect.arrayContaining([
            { ...issued.body, key: undefined },
            expect.objectContaining({ keyHash: spare.body['keyHash'], label: 'default' }),
          ]),
        },
      });
      expect((listed.body['apiKeys'] as unknown[]).length).toBe(2);
      expect(JSON.stringify(listed.body)).not.toContain(key);
      expect(JSON.stringify(listed.body)).not.toContain('"key"');

      const revoked = await call('DELETE', `/v1/advertisers/${newco}/api-keys/${keyHash}`, operator);
      expect(revoked).toEqual({
        status: 200,
        body: { ...issued.body, key: undefined, status: 'revoked', revokedAt: expect.any(String) },
      });
      // The very next request with the key is refused: keys are looked up per request, not cached.
      for (const [method, where] of [
        ['GET', path],
        ['GET', '/v1/advertisers/me'],
        ['POST', `${path}/pause`],
      ] as const) {
        expect(await call(method, where, newcoKey)).toEqual({
          status: 401,
          body: expect.objectContaining({ code: 'unauthenticated', message: 'the API key has been revoked' }),
        });
      }
      expect((await call('GET', path, spareKey)).body['status']).toBe('active');
      // Again is no change; another advertiser's key is not this advertiser's to revoke.
      expect(await call('DELETE', `/v1/advertisers/${newco}/api-keys/${keyHash}`, operator)).toEqual(revoked);
      const acmeHash = apiKeyHash(keys.acme);
      expect(await call('DELETE', `/v1/advertisers/${newco}/api-keys/${acmeHash}`, operator)).toEqual({
        status: 404,
        body: expect.objectContaining({ message: `advertiser ${newco} has no API key ${acmeHash}` }),
      });
      expect((await call('GET', '/v1/advertisers/me', acme())).status).toBe(200);
      const listedAfter = (await call('GET', `/v1/advertisers/${newco}/api-keys`, operator)).body['apiKeys'];
      expect(listedAfter).toEqual(
        expect.arrayContaining([expect.objectContaining({ keyHash, status: 'revoked' })]),
      );

      const missing = {
        status: 404,
        body: expect.objectContaining({ message: 'advertiser 999999 not found' }),
      };
      expect(await call('GET', '/v1/advertisers/999999', operator)).toEqual(missing);
      expect(await call('POST', '/v1/advertisers/999999/api-keys', operator, {})).toEqual(missing);
      expect(await call('GET', '/v1/advertisers/999999/api-keys', operator)).toEqual(missing);
      expect(await call('DELETE', `/v1/advertisers/999999/api-keys/${keyHash}`, operator)).toEqual(missing);
    });

    it('lists advertisers a page at a time and gives advertisers created at once ids of their own', async () => {
      const created = await Promise.all(
        Array.from({ length: 8 }, (_, i) => call('POST', '/v1/advertisers', operator, { name: `race ${i}` })),
      );
      expect(created.map((r) => r.status)).toEqual(Array(8).fill(201));
      const ids = created.map((r) => r.body['id'] as number);
      expect(new Set(ids).size).toBe(8);

      const all: number[] = [];
      const nexts: (number | null)[] = [];
      let after: number | null = null;
      do {
        const res = await call(
          'GET',
          `/v1/advertisers?limit=3${after === null ? '' : `&after=${after}`}`,
          operator,
        );
        expect(res.status).toBe(200);
        all.push(...(res.body['advertisers'] as { id: number }[]).map((a) => a.id));
        after = res.body['next'] as number | null;
        nexts.push(after);
      } while (after !== null && nexts.length < 100);
      const rows = await db
        .getRepository(AdvertiserEntity)
        .find({ select: { id: true }, order: { id: 'ASC' } });
      expect(all).toEqual(rows.map((a) => a.id));
      expect(all).toEqual(expect.arrayContaining([ACME, OTHER, ...ids]));
      expect(nexts.at(-1)).toBeNull();
      expect(nexts.slice(0, -1)).toEqual(all.filter((_, i) => i % 3 === 2 && i < all.length - 1));
      const first = await call('GET', '/v1/advertisers', operator);
      expect(first.body).toEqual({ advertisers: expect.any(Array), next: null });
      expect((first.body['advertisers'] as unknown[])[0]).toEqual({
        id: ACME,
        name: 'Acme',
        timezone: 'UTC',
        createdAt: new Date(CREATED).toISOString(),
      });
    });

    it('keeps advertisers and their keys to operators: 403 for an API key, which reads only its own', async () => {
      const before = await db.getRepository(AdvertiserEntity).count();
      const keysBefore = await db.getRepository(AdvertiserApiKeyEntity).count();
      const acmeHash = apiKeyHash(keys.acme);
      const operatorOnly = [
        ['GET', '/v1/advertisers'],
        ['POST', '/v1/advertisers', { name: 'Sneaky' }],
        ['GET', `/v1/advertisers/${ACME}`],
        ['GET', `/v1/advertisers/${OTHER}`],
        ['POST', `/v1/advertisers/${ACME}/api-keys`, { label: 'more' }],
        ['POST', `/v1/advertisers/${OTHER}/api-keys`, {}],
        ['GET', `/v1/advertisers/${ACME}/api-keys`],
        ['DELETE', `/v1/advertisers/${ACME}/api-keys/${acmeHash}`],
      ] as const;
      for (const [method, path, body] of operatorOnly) {
        const res = await call(method, path, acme(), body);
        expect(res).toEqual({
          status: 403,
          body: expect.objectContaining({ code: 'forbidden', reason: 'operator_only' }),
        });
        expect(res.body['message']).toBe(
          'only an operator (Authorization: Bearer <ADMIN_TOKEN>) manages advertisers and their API keys; ' +
            `this API key belongs to advertiser ${ACME} (GET /v1/advertisers/me reads it)`,
        );
        expect((await call(method, path, null, body)).status).toBe(401);
      }
      expect(await db.getRepository(AdvertiserEntity).count()).toBe(before);
      expect(await db.getRepository(AdvertiserApiKeyEntity).count()).toBe(keysBefore);
      expect((await call('GET', '/v1/advertisers/me', acme())).status).toBe(200);

      expect(await call('GET', '/v1/advertisers/me', acme())).toEqual({
        status: 200,
        body: { id: ACME, name: 'Acme', timezone: 'UTC', createdAt: new Date(CREATED).toISOString() },
      });
      expect((await call('GET', '/v1/advertisers/me', other())).body['id']).toBe(OTHER);
      expect(await call('GET', '/v1/advertisers/me', operator)).toEqual({
        status: 400,
        body: expect.objectContaining({
          message:
            'me: the ADMIN_TOKEN belongs to no advertiser; an operator reads one at GET /v1/advertisers/{id}',
        }),
      });
      expect((await call('GET', '/v1/advertisers/me', null)).status).toBe(401);
    });

    it('refuses bad advertiser and API key requests with 400 naming the field', async () => {
      const message = async (method: string, path: string, body?: unknown) => {
        const res = await call(method, path, operator, body);
        expect(res.status).toBe(400);
        expect(res.body['code']).toBe('invalid_request');
        return res.body['message'];
      };
      const before = await db.getRepository(AdvertiserEntity).count();
      expect(await message('POST', '/v1/advertisers', {})).toBe('name: is required');
      expect(await message('POST', '/v1/advertisers', { name: '  ' })).toBe('name: must not be empty');
      expect(await message('POST', '/v1/advertisers', { name: 'x'.repeat(201) })).toBe(
        'name: expected at most 200 characters',
      );
      for (const timezone of ['Mars/Olympus', '+01:00', ''])
        expect(await message('POST', '/v1/advertisers', { name: 'x', timezone })).toBe(
          'timezone: expected an IANA time zone name such as UTC or Europe/Paris',
        );
      expect(await message('POST', '/v1/advertisers', { name: 'x', currency: 'EUR' })).toBe(
        'unknown field "currency"',
      );
      expect(await message('POST', '/v1/advertisers', { name: 'x', id: 77 })).toBe('unknown field "id"');
      expect(await db.getRepository(AdvertiserEntity).count()).toBe(before);

      const keysPath = `/v1/advertisers/${ACME}/api-keys`;
      expect(await message('POST', keysPath, { label: '' })).toBe('label: must not be empty');
      expect(await message('POST', keysPath, { label: 'x'.repeat(101) })).toBe(
        'label: expected at most 100 characters',
      );
      expect(await message('POST', keysPath, { key: `adf_live_${'x'.repeat(43)}` })).toBe(
        'unknown field "key"',
      );
      expect(await message('GET', '/v1/advertisers/abc')).toBe('expected an advertiser id');
      expect(await message('GET', '/v1/advertisers/0/api-keys')).toBe('expected an advertiser id');
      expect(await message('DELETE', `${keysPath}/${keys.acme}`)).toBe(
        'expected a key hash: the 64 lower-case hex characters of keyHash',
      );
      expect(await message('GET', '/v1/advertisers?limit=0')).toBe(
        'limit: expected a whole number from 1 to 1000',
      );
      expect(await message('GET', '/v1/advertisers?after=abc')).toBe('after: expected an advertiser id');
      expect((await call('GET', '/v1/advertisers/me', acme())).status).toBe(200);
    });

    it('answers GET /metrics in the Prometheus text format: its requests by route template, labelled service="advertiser"', async () => {
      const campaign = await createCampaign({ name: 'Acme metrics' });
      expect((await call('GET', `/v1/campaigns/${campaign.id}`, acme())).status).toBe(200);
      expect((await call('GET', `/v1/campaigns/${campaign.id}`, null)).status).toBe(401);

      const res = await fetch(`${base}/metrics`);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(text).toContain('# TYPE adfunnel_http_requests_total counter');
      expect(text).toContain('# TYPE adfunnel_http_request_duration_seconds histogram');
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="advertiser"\} \d/m);
      const route = { route: '/v1/campaigns/:campaignId', method: 'GET', service: 'advertiser' };
      expect(sample(text, 'adfunnel_http_requests_total', { ...route, status_code: '200' })).toBeGreaterThan(
        0,
      );
      expect(sample(text, 'adfunnel_http_requests_total', { ...route, status_code: '401' })).toBeGreaterThan(
        0,
      );
      expect(
        sample(text, 'adfunnel_http_request_duration_seconds_count', {
          route: '/v1/campaigns',
          method: 'POST',
          service: 'advertiser',
        }),
      ).toBeGreaterThan(0);
      // A route's template, never the path as sent: no campaign id in a label.
      expect(text).not.toContain(`route="/v1/campaigns/${campaign.id}"`);
    });
  },
);

describe('the advertiser API under RATE_LIMIT_PER_MINUTE', () => {
  it('refuses a client past the limit with 429', async () => {
    const [kind] = testDatabaseKinds('advertiser_rate');
    const target = await kind.create();
    const keys = await prepare(target.database);
    const app = await startAdvertiserApi({
      ...target.env,
      ADVERTISER_PORT: String(PORTS.rateLimited),
      RATE_LIMIT_PER_MINUTE: '3',
    });
    try {
      const get = () =>
        fetch(`http://127.0.0.1:${PORTS.rateLimited}/v1/campaigns`, {
          headers: { authorization: `Bearer ${keys.acme}` },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await get()).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await app.close();
      await target.drop();
    }
  });
});
