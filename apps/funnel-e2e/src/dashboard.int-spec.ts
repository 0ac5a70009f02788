import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdResponse } from '@adfunnel/contracts';
import { type Browser, type Page, chromium } from 'playwright-core';
import { decodePng, pixelsOfColor } from './support/png-pixels.js';
import { TestFunnel, runCatalogCli } from './support/test-funnel.js';

/** Debian's chromium (tools/scripts/ensure-chromium.sh installs it for `npm test`). */
const CHROMIUM = '/usr/bin/chromium';
/** The colours the dashboard draws its main series in (apps/dashboard/src/main.ts). */
const DARK = '#2f5fb3';
const ACCENT = '#d9822b';
const GREEN = '#3c8d5a';
/** Nothing listens here: the latency panel must show it unavailable, not fail. */
const DEAD_METRICS_PORT = 4259;
const BASE_PORT = 4250;
const SCREENSHOTS = join(tmpdir(), 'adfh-dash-screenshots');

const metricsUrls = [
  ['gateway', 0],
  ['retrieval', 1],
  ['ranking', 2],
  ['auction', 3],
  ['logging', 4],
]
  .map(([service, offset]) => `${service}=http://127.0.0.1:${BASE_PORT + Number(offset)}/metrics`)
  .concat(`spare=http://127.0.0.1:${DEAD_METRICS_PORT}/metrics`)
  .join(',');

/**
 * The dashboard in a real browser over a real funnel: ads served, shown and clicked through the five
 * services, then the page read in headless Chromium as an operator and as an advertiser.
 */
describe('the dashboard in headless Chromium', () => {
  const funnel = new TestFunnel({
    basePort: BASE_PORT,
    colocate: [['retrieval', 'ranking', 'auction', 'gateway']],
    runPrefix: 'adfh_dash',
    // Delivery counts flushed often, so the diagnostics panel has the stages' counts by the time it loads.
    env: {
      DASHBOARD_METRICS_URLS: metricsUrls,
      DASHBOARD_SCRAPE_TIMEOUT_MS: '1000',
      DELIVERY_FLUSH_MS: '500',
    },
  });
  let browser: Browser;
  let adminToken: string;
  let dashboardUrl: string;
  /** The advertiser of the first served ad, and its API key. */
  let advertiserId: number;
  let apiKey: string;

  beforeAll(async () => {
    try {
      await funnel.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${funnel.output.join('\n')}`, {
        cause: err,
      });
    }
    adminToken = funnel.launcher.operatorEnv()['ADMIN_TOKEN'];
    dashboardUrl = `${funnel.launcher.url('logging')}/dashboard`;

    const served: AdResponse['ads'] = [];
    for (let i = 0; i < 24; i++) {
      const { status, body } = await funnel.requestAds({
        userId: `u${String(100 + i).padStart(5, '0')}`,
        surface: i % 3 === 2 ? 'search' : 'home_feed',
        ...(i % 3 === 2 ? { query: 'running shoes' } : {}),
        country: 'US',
        device: i % 2 === 0 ? 'mobile' : 'desktop',
        slots: 3,
      });
      expect(status).toBe(200);
      served.push(...(body as unknown as AdResponse).ads);
    }
    expect(served.length).toBeGreaterThan(20);
    const clicks: { advertiserId: number; clickId: string }[] = [];
    for (const [i, ad] of served.entries()) {
      expect((await fetch(ad.tracking.impressionUrl)).status).toBe(204);
      if (i % 4 !== 0) continue;
      const click = await fetch(ad.tracking.clickUrl, { redirect: 'manual' });
      expect(click.status).toBe(302);
      const clickId = new URL(click.headers.get('location') ?? '').searchParams.get('adf_click_id') ?? '';
      clicks.push({ advertiserId: ad.advertiserId, clickId });
    }
    await funnel.eventually<{ n: string }>(
      `SELECT COUNT(*) AS n FROM tracking_events WHERE type IN ('impression', 'click')`,
      [],
      (rows) => Number(rows[0].n) === served.length + clicks.length,
      30_000,
    );

    // Every advertiser's key: the clicked advertisers report conversions, the first is the advertiser view's.
    mkdirSync(SCREENSHOTS, { recursive: true });
    const keyFile = join(SCREENSHOTS, `${funnel.runId}-keys.json`);
    runCatalogCli(funnel.databaseUrl, ['api-keys', 'issue', '--advertiser', 'all', '--out', keyFile]);
    const keys = new Map(
      (
        JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: { advertiserId: number; key: string }[] }
      ).keys.map((k) => [k.advertiserId, k.key]),
    );
    rmSync(keyFile);
    advertiserId = served[0].advertiserId;
    apiKey = keys.get(advertiserId) ?? '';
    for (const [i, click] of clicks.entries()) {
      const res = await fetch(`${funnel.launcher.url('logging')}/v1/conversions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${keys.get(click.advertiserId)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ clickId: click.clickId, conversionId: `order-${i}` }),
      });
      expect(res.status).toBe(202);
    }
    // Most winners are CPA campaigns: their conversions are what the ledger charges.
    await funnel.eventually<{ n: string }>(
      `SELECT COUNT(*) AS n FROM ledger_entries`,
      [],
      (rows) => Number(rows[0].n) > 0,
      30_000,
    );

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await funnel.stop();
  }, 60_000);

  const api = (path: string, token?: string) =>
    fetch(`${funnel.launcher.url('logging')}/v1/dashboard/${path}`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  async function signIn(token: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 2400 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(dashboardUrl);
    await page.fill('#token', token);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
    expect(errors).toEqual([]);
    return page;
  }

  /** Pixels of `color` in a screenshot of the chart: bars and lines drawn from data, not axes or grid. */
  async function chartPixels(page: Page, id: string, color: string): Promise<number> {
    return pixelsOfColor(decodePng(await page.locator(`#${id}`).screenshot()), color);
  }

  /** The cells of a table's body rows, as text. */
  async function tableText(page: Page, id: string): Promise<string[][]> {
    const rows = page.locator(`#${id} tbody tr`);
    const cells: string[][] = [];
    for (let i = 0; i < (await rows.count()); i++)
      cells.push(await rows.nth(i).locator('td').allTextContents());
    return cells;
  }

  it('shows an operator every panel with plotted data and the numbers of the funnel', async () => {
    const page = await signIn(adminToken);
    const screenshot = join(SCREENSHOTS, 'operator.png');
    await page.screenshot({ path: screenshot, fullPage: true });

    expect(await page.textContent('#viewer')).toContain('Operator');
    for (const section of ['funnel', 'spend', 'pacing', 'delivery', 'calibration', 'latency']) {
      expect(await page.getAttribute(`#${section}-panel`, 'data-state')).toBe('ready');
    }
    for (const chart of ['funnel-chart', 'spend-chart', 'latency-chart']) {
      expect(await chartPixels(page, chart, DARK)).toBeGreaterThan(200);
    }
    expect(await chartPixels(page, 'pacing-chart', ACCENT)).toBeGreaterThan(100);
    expect(Number(await page.getAttribute('#calibration-chart', 'data-points'))).toBeGreaterThan(0);

    const funnelRows = new Map(
      (await tableText(page, 'funnel-table')).map(([stage, count]) => [stage, count]),
    );
    const count = async (sql: string) => Number((await funnel.db.query<{ n: string }>(sql)).rows[0].n);
    expect(funnelRows.get('served')).toBe(
      (await count('SELECT COUNT(*) AS n FROM served_ads')).toLocaleString('en-US'),
    );
    expect(funnelRows.get('impressions')).toBe(
      (await count(`SELECT COUNT(*) AS n FROM tracking_events WHERE type = 'impression'`)).toLocaleString(
        'en-US',
      ),
    );
    expect(funnelRows.get('clicks')).toBe(
      (await count(`SELECT COUNT(*) AS n FROM tracking_events WHERE type = 'click'`)).toLocaleString('en-US'),
    );
    expect(Number(funnelRows.get('requests')?.replaceAll(',', ''))).toBeGreaterThanOrEqual(24);
    expect(Number(funnelRows.get('retrieved')?.replaceAll(',', ''))).toBeGreaterThan(0);

    const services = await page.locator('#latency-services li').allTextContents();
    expect(services).toContain('gateway: answering');
    expect(services.find((s) => s.startsWith('spare:'))).toMatch(/^spare: unavailable/);
    const charged = await count('SELECT COALESCE(SUM(charged_micros), 0) AS n FROM ledger_entries');
    const shown = (await tableText(page, 'campaign-table')).reduce(
      (sum, row) => sum + Math.round(Number(row[7].replace('$', '')) * 1e6),
      0,
    );
    // The table rounds each campaign to the cent.
    expect(Math.abs(shown - charged)).toBeLessThanOrEqual(
      5_000 * (await tableText(page, 'campaign-table')).length,
    );
    // The delivery panel reads GET /v1/diagnostics/campaigns/:id for the campaign picked.
    expect(await chartPixels(page, 'delivery-chart', GREEN)).toBeGreaterThan(200);
    expect(await page.locator('#delivery-diagnosis li').count()).toBeGreaterThan(0);
    await page.close();
  });

  it("shows an advertiser only its own campaigns and none of the operators' panels", async () => {
    const page = await signIn(apiKey);
    await page.screenshot({ path: join(SCREENSHOTS, 'advertiser.png'), fullPage: true });

    expect(await page.textContent('#viewer')).toBe(`Advertiser ${advertiserId}`);
    expect(await page.isVisible('#latency-panel')).toBe(false);
    expect(await page.isVisible('#calibration-panel')).toBe(false);
    const rows = await tableText(page, 'campaign-table');
    const own = await funnel.db.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM campaigns WHERE advertiser_id = $1',
      [advertiserId],
    );
    expect(rows).toHaveLength(Number(own.rows[0].n));
    expect(rows.every((row) => row[1] === String(advertiserId))).toBe(true);
    expect(await chartPixels(page, 'funnel-chart', DARK)).toBeGreaterThan(200);
    expect(await page.getAttribute('#spend-panel', 'data-state')).toBe('ready');
    await page.close();
  });

  it('refuses what a token may not read, with a status and a message that say why', async () => {
    expect((await api('session')).status).toBe(401);
    expect((await api('latency', apiKey)).status).toBe(403);
    const other = await funnel.db.query<{ id: number }>(
      'SELECT id FROM campaigns WHERE advertiser_id <> $1 ORDER BY id LIMIT 1',
      [advertiserId],
    );
    const foreign = await api(`campaigns/${other.rows[0].id}/pacing`, apiKey);
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { message: string }).message).toMatch(/has no campaign/);
    const badWindow = await api('funnel?window=soon', adminToken);
    expect(badWindow.status).toBe(400);
    expect(((await badWindow.json()) as { message: string }).message).toMatch(/window/);
    expect((await api('campaigns/abc/pacing', adminToken)).status).toBe(400);
    const badDay = await api(`campaigns/${other.rows[0].id}/pacing?day=2026-02-30`, adminToken);
    expect(badDay.status).toBe(400);
    expect(((await badDay.json()) as { message: string }).message).toMatch(/calendar date/);
    expect((await api('campaigns?day=2026-12-01', adminToken)).status).toBe(400);
  });
});
