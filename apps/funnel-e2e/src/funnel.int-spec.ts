import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdResponse, UserActivity } from '@adfunnel/contracts';
import { eventually, metricValue } from '@adfunnel/testing';
import { TestFunnel } from './support/test-funnel.js';

interface CampaignRow {
  ad_id: number;
  status: string;
  bid: number;
  bid_type: string;
  target_countries: string;
  target_devices: string;
  landing_url: string;
}

/**
 * The five services as separate processes against the real NATS, Redis and PostgreSQL of this
 * machine: ads are served end to end, events land once, and a dead ranking stage degrades the answer.
 */
describe('the funnel across services', () => {
  const funnel = new TestFunnel();
  const campaignsByAd = new Map<number, CampaignRow>();

  beforeAll(async () => {
    try {
      await funnel.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${funnel.output.join('\n')}`, {
        cause: err,
      });
    }
    const { rows } = await funnel.db.query<CampaignRow>(
      `SELECT a.id AS ad_id, c.status, c.bid, c.bid_type, c.target_countries, c.target_devices, a.landing_url
         FROM ads a JOIN campaigns c ON c.id = a.campaign_id`,
    );
    for (const row of rows) campaignsByAd.set(Number(row.ad_id), row);
  }, 180_000);

  afterAll(async () => {
    await funnel.stop();
  }, 60_000);

  const request = (overrides: Record<string, unknown> = {}) => ({
    userId: 'u00042',
    surface: 'home_feed',
    country: 'US',
    device: 'mobile',
    slots: 3,
    ...overrides,
  });

  it('serves ranked, priced ads with signed tracking URLs', async () => {
    const { status, body } = await funnel.requestAds(request(), { 'x-request-id': 'e2e-first-request' });
    const answer = body as unknown as AdResponse;

    expect(status).toBe(200);
    expect(answer.requestId).toBe('e2e-first-request');
    expect(answer.ranking).toBe('model');
    expect(answer.degraded).toEqual([]);
    // A seeded user the funnel has logged nothing of yet: served cold, as any new user.
    expect(answer.personalized).toBe(false);
    expect(answer.modelVersion).toEqual(expect.any(String));
    expect(answer.ads).toHaveLength(3);
    expect(answer.ads.map((a) => a.slot)).toEqual([0, 1, 2]);
    expect(new Set(answer.ads.map((a) => a.advertiserId)).size).toBe(3);
    for (const ad of answer.ads) {
      expect(ad.creative.title.length).toBeGreaterThan(0);
      expect(ad.tracking.impressionUrl).toMatch(/^http:\/\/127\.0\.0\.1:4104\/v1\/events\/impression\?t=/);
    }
  });

  it('answers GET /metrics on every service, the gateway counting its calls to each stage', async () => {
    for (const app of ['gateway', 'retrieval', 'ranking', 'auction', 'logging'] as const) {
      const res = await fetch(`${funnel.launcher.url(app)}/metrics`);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(text).toMatch(new RegExp(`^nodejs_eventloop_lag_seconds\\{service="${app}"\\} `, 'm'));
    }
    const gateway = await (await fetch(`${funnel.gatewayUrl}/metrics`)).text();
    for (const pattern of ['retrieval.candidates', 'ranking.score', 'auction.run']) {
      const calls = { pattern: `adfunnel.${pattern}.v1`, outcome: 'ok', service: 'gateway' };
      expect(metricValue(gateway, 'adfunnel_bus_calls_total', calls)).toBeGreaterThan(0);
    }
    const served = { surface: 'home_feed', outcome: 'served' };
    expect(metricValue(gateway, 'adfunnel_gateway_ad_answers_total', served)).toBeGreaterThan(0);
    const ranking = await (await fetch(`${funnel.launcher.url('ranking')}/metrics`)).text();
    const handled = { pattern: 'adfunnel.ranking.score.v1', outcome: 'ok' };
    expect(metricValue(ranking, 'adfunnel_bus_handled_total', handled)).toBeGreaterThan(0);
    expect(metricValue(ranking, 'adfunnel_model_info', { stage: 'ranking', role: 'live' })).toBe(1);
  });

  it('honours targeting and never prices above the bid, across countries and devices', async () => {
    const countries = ['US', 'GB', 'DE', 'IN', 'JP'];
    const devices = ['mobile', 'desktop', 'tablet'];
    let checked = 0;
    for (let i = 0; i < 30; i++) {
      const country = countries[i % countries.length];
      const device = devices[i % devices.length];
      const userId = `u${String(1 + ((i * 37) % 2000)).padStart(5, '0')}`;
      const { status, body } = await funnel.requestAds(request({ userId, country, device, slots: 4 }));
      expect(status).toBe(200);
      for (const ad of (body as unknown as AdResponse).ads) {
        const campaign = campaignsByAd.get(ad.adId)!;
        expect(campaign.status).toBe('active');
        const targetCountries = JSON.parse(campaign.target_countries) as string[];
        const targetDevices = JSON.parse(campaign.target_devices) as string[];
        if (targetCountries.length > 0) expect(targetCountries).toContain(country);
        if (targetDevices.length > 0) expect(targetDevices).toContain(device);
        expect(ad.price.bidType).toBe(campaign.bid_type);
        expect(ad.price.amount).toBeGreaterThan(0);
        expect(ad.price.amount).toBeLessThanOrEqual(Number(campaign.bid) + 1e-9);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('stores a repeated impression once, redirects a click to the landing page, and logs the served record', async () => {
    const { body } = await funnel.requestAds(request({ userId: 'u00007' }), { 'x-request-id': 'e2e-events' });
    const ad = (body as unknown as AdResponse).ads[0];

    const first = await fetch(ad.tracking.impressionUrl);
    const again = await fetch(ad.tracking.impressionUrl);
    expect(first.status).toBe(204);
    expect(again.status).toBe(204);
    const click = await fetch(ad.tracking.clickUrl, { redirect: 'manual' });
    expect(click.status).toBe(302);
    const landing = new URL(click.headers.get('location')!);
    expect(landing.searchParams.get('adf_click_id')).toMatch(/^[0-9a-f]{32}$/);
    landing.searchParams.delete('adf_click_id');
    expect(landing.toString()).toBe(new URL(campaignsByAd.get(ad.adId)!.landing_url).toString());

    const events = await funnel.eventually<{ type: string; n: string }>(
      `SELECT type, COUNT(*) AS n FROM tracking_events WHERE request_id = $1 GROUP BY type ORDER BY type`,
      ['e2e-events'],
      (rows) => rows.length === 2,
    );
    expect(events.map((r) => [r.type, Number(r.n)])).toEqual([
      ['click', 1],
      ['impression', 1],
    ]);

    const served = await funnel.eventually<{
      slot: number;
      ad_id: number;
      features: string;
      feature_dim: number;
    }>(
      `SELECT slot, ad_id, features, feature_dim FROM served_ads WHERE request_id = $1 ORDER BY slot`,
      ['e2e-events'],
      (rows) => rows.length === 3,
    );
    expect(served.map((r) => Number(r.ad_id))).toEqual(
      (body as unknown as AdResponse).ads.map((a) => a.adId),
    );
    expect(served[0].features).not.toBeNull();
    expect(Number(served[0].feature_dim)).toBeGreaterThan(0);
  });

  it("personalizes a user's next request from what logging stored, and logs the activity it was served with", async () => {
    const userId = 'u00123';
    const first = (
      await funnel.requestAds(request({ userId, surface: 'search', query: 'Running Shoes' }), {
        'x-request-id': 'e2e-activity-0',
      })
    ).body as unknown as AdResponse;
    expect(first.personalized).toBe(false);
    const clicked = first.ads[0];
    expect((await fetch(clicked.tracking.impressionUrl)).status).toBe(204);
    expect((await fetch(clicked.tracking.clickUrl, { redirect: 'manual' })).status).toBe(302);

    // The gateway caches a user's activity for a second at most: the click shows within seconds.
    let next = 0;
    const answer = await eventually(
      'a personalized answer',
      async () =>
        (await funnel.requestAds(request({ userId }), { 'x-request-id': `e2e-activity-${++next}` }))
          .body as unknown as AdResponse,
      (body) => body.personalized,
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(answer.degraded).toEqual([]);

    const [row] = await funnel.eventually<{ user_activity: string | null; query: string | null }>(
      `SELECT user_activity, query FROM served_ads WHERE request_id = $1 AND slot = 0`,
      [answer.requestId],
      (rows) => rows.length === 1,
    );
    const activity = JSON.parse(row.user_activity!) as UserActivity;
    expect(activity.recentAdIds[0]).toBe(clicked.adId);
    expect(activity.recentQueries).toEqual(['running shoes']);
    expect(activity.clicksByCategory.reduce((a, b) => a + b)).toBeCloseTo(1, 3);
    const [searched] = await funnel.eventually<{ query: string | null; user_activity: string | null }>(
      `SELECT query, user_activity FROM served_ads WHERE request_id = 'e2e-activity-0' AND slot = 0`,
      [],
      (rows) => rows.length === 1,
    );
    expect(searched).toEqual({ query: 'Running Shoes', user_activity: null });
  });

  it('personalizes a user who never saw an ad from the organic activity their surface reported', async () => {
    const userId = 'u00777';
    const report = (events: unknown[]) =>
      fetch(`${funnel.gatewayUrl}/v1/activity`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId, events }),
      });
    const engagements = Array.from({ length: 6 }, (_, i) => ({
      type: 'engagement',
      id: `pin-${i}`,
      category: 'pets',
    }));
    const folded = await report([...engagements, { type: 'search', id: 'search-1', query: '  Dog Bed ' }]);
    expect(folded.status).toBe(200);
    expect(await folded.json()).toEqual({ folded: 7, duplicates: 0 });
    // A retry of the same report counts nothing twice.
    expect(await (await report(engagements)).json()).toEqual({ folded: 0, duplicates: 6 });

    const bad = await report([{ type: 'engagement', id: 'x', category: 'dinosaurs' }]);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      code: 'invalid_request',
      reason: 'unknown_category',
      message: expect.stringMatching(
        /events\[0\]\.category "dinosaurs" is not a category of the taxonomy; known: fashion, /,
      ),
    });

    const { body } = await funnel.requestAds(request({ userId }), { 'x-request-id': 'e2e-organic-1' });
    const answer = body as unknown as AdResponse;
    expect(answer.personalized).toBe(true);
    expect(answer.ads.some((ad) => ad.creative.category === 'pets')).toBe(true);
    const [row] = await funnel.eventually<{ user_activity: string | null }>(
      `SELECT user_activity FROM served_ads WHERE request_id = 'e2e-organic-1' AND slot = 0`,
      [],
      (rows) => rows.length === 1,
    );
    const activity = JSON.parse(row.user_activity!) as UserActivity;
    expect(activity.engagementsByCategory![10]).toBeCloseTo(6, 3);
    expect(activity.recentQueries).toEqual(['dog bed']);
    expect(activity.clicksByCategory.every((n) => n === 0)).toBe(true);
  });

  it('rejects a tampered tracking token with 400 and a message', async () => {
    const { body } = await funnel.requestAds(request({ userId: 'u00008' }));
    const url = (body as unknown as AdResponse).ads[0].tracking.impressionUrl;
    const tampered = url.replace(/t=(.)/, (_m, c: string) => `t=${c === 'A' ? 'B' : 'A'}`);
    const res = await fetch(tampered);
    expect(res.status).toBe(400);
    const error = (await res.json()) as { code: string; message: string };
    expect(error.code).toBe('invalid_request');
    expect(error.message.length).toBeGreaterThan(0);
  });

  it.each([
    ['an unknown field', request({ color: 'red' }), /unknown field "color"/],
    ['too many slots', request({ slots: 50 }), /slots/],
    ['a missing user id', { surface: 'home_feed', country: 'US', device: 'mobile' }, /userId/],
    ['an unknown surface', request({ surface: 'billboard' }), /surface/],
    ['a lower-case country', request({ country: 'us' }), /country/],
    ['a body that is not JSON', '{"userId": ', /JSON/],
    ['an oversize body', request({ query: 'x'.repeat(40_000) }), /too large|limit/i],
  ])('answers %s with 400 and a message', async (_what, body, message) => {
    const { status, body: error } = await funnel.requestAds(body);
    expect(status).toBe(400);
    expect(error.code).toMatch(/invalid_request|payload_too_large/);
    expect(error.message).toMatch(message);
    expect(error.requestId).toEqual(expect.any(String));
  });

  it('still serves ads in retrieval order when the ranking process is killed', async () => {
    const scrape = async () => (await fetch(`${funnel.gatewayUrl}/metrics`)).text();
    const degraded = (text: string) =>
      metricValue(text, 'adfunnel_gateway_degraded_answers_total', { reason: 'ranking_unavailable' }) ?? 0;
    const before = await scrape();
    await funnel.launcher.kill('ranking');
    const { status, body } = await funnel.requestAds(request({ userId: 'u00011' }));
    const answer = body as unknown as AdResponse;
    expect(status).toBe(200);
    expect(answer.ranking).toBe('retrieval_order');
    expect(answer.degraded).toEqual(['ranking_unavailable']);
    expect(answer.stages).toEqual({ retrieval: 'ok', ranking: 'failed', auction: 'ok' });
    const during = await scrape();
    expect(degraded(during) - degraded(before)).toBe(1);
    const failed = { stage: 'ranking', outcome: 'failed' };
    const failures = (text: string) =>
      metricValue(text, 'adfunnel_gateway_stage_outcomes_total', failed) ?? 0;
    expect(failures(during) - failures(before)).toBe(1);
    expect(answer.ads.length).toBeGreaterThan(0);
    for (const ad of answer.ads) {
      expect(ad.price.amount).toBeLessThanOrEqual(Number(campaignsByAd.get(ad.adId)!.bid) + 1e-9);
    }

    await funnel.launcher.startApp('ranking');
    const recovered = await funnel.requestAds(request({ userId: 'u00011' }));
    expect((recovered.body as unknown as AdResponse).ranking).toBe('model');
  }, 120_000);
});
