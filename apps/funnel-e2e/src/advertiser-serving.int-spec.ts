import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AdResponse } from '@adfunnel/contracts';
import { eventually } from '@adfunnel/testing';
import { TestFunnel, runCatalogCli } from './support/test-funnel.js';

/**
 * An advertiser creates a campaign and an ad through the advertiser API (co-located with logging,
 * as npm start runs it) and sees the ad served by POST /v1/ads on the real funnel within seconds,
 * then pauses it and sees it stop, resumes it, reads its impression and spend in the report and the
 * requests it missed paused in its diagnosis. The campaign targets a country no seeded campaign names and bids
 * far above them, so once the catalog change reaches serving it wins wherever it is a candidate.
 */
describe('an ad created through the advertiser API', () => {
  const funnel = new TestFunnel({
    basePort: 4200,
    env: { DELIVERY_FLUSH_MS: '200' },
    colocate: [
      ['retrieval', 'ranking', 'auction', 'gateway'],
      ['logging', 'advertiser'],
    ],
  });
  const keysFile = join(tmpdir(), `adfh-adv-keys-${process.pid}.json`);
  let key: string;
  let users = 0;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${funnel.launcher.url('advertiser')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** The ads served to a new user in New Zealand (no frequency cap carries over between requests). */
  const servedAdIds = async () => (await served()).map((ad) => ad.adId);
  const served = async () => {
    users += 1;
    const { status, body } = await funnel.requestAds({
      userId: `adfh-adv-${users}`,
      surface: 'home_feed',
      country: 'NZ',
      device: 'desktop',
      slots: 3,
    });
    expect(status).toBe(200);
    return (body as unknown as AdResponse).ads;
  };

  beforeAll(async () => {
    try {
      await funnel.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${funnel.output.join('\n')}`, {
        cause: err,
      });
    }
    runCatalogCli(funnel.databaseUrl, [
      'api-keys',
      'issue',
      '--advertiser',
      '1',
      '--label',
      'e2e',
      '--out',
      keysFile,
    ]);
    key = (JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: { key: string }[] }).keys[0].key;
  }, 180_000);

  afterAll(async () => {
    rmSync(keysFile, { force: true });
    await funnel.stop();
  }, 60_000);

  it('runs in the process of logging', () => {
    expect(funnel.launcher.pid('advertiser')).toBe(funnel.launcher.pid('logging'));
  });

  it('serves within seconds of its creation, stops when paused, and reports its delivery', async () => {
    const campaign = await api('POST', '/v1/campaigns', {
      name: 'Kiwi launch',
      bidType: 'CPM',
      bid: 900,
      dailyBudget: 50_000,
      targetCountries: ['NZ'],
      pacing: 'asap',
    });
    expect(campaign.status).toBe(201);
    const campaignId = campaign.body['id'] as number;
    const ad = await api('POST', `/v1/campaigns/${campaignId}/ads`, {
      title: 'Kiwi Outdoor: trail running shoes',
      text: 'Trail running shoes built for the Southern Alps.',
      category: 'sports',
      landingUrl: 'https://kiwi.example.com/shoes',
      imageUrl: 'https://img.example.com/kiwi/shoes.jpg',
    });
    expect(ad.status).toBe(201);
    const adId = ad.body['id'] as number;
    const created = performance.now();

    await eventually('the new ad to be served', servedAdIds, (ids) => ids.includes(adId), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const servedAfterMs = performance.now() - created;

    const paused = await api('POST', `/v1/campaigns/${campaignId}/pause`);
    expect(paused.body['status']).toBe('paused');
    const pausedAt = performance.now();
    await eventually('the paused campaign to stop serving', servedAdIds, (ids) => !ids.includes(adId), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const stoppedAfterMs = performance.now() - pausedAt;
    // Several requests in a row, so one answer without it is not a lucky miss.
    for (let i = 0; i < 5; i++) expect(await servedAdIds()).not.toContain(adId);

    expect((await api('POST', `/v1/campaigns/${campaignId}/resume`)).body['status']).toBe('active');
    await eventually('the resumed campaign to serve again', servedAdIds, (ids) => ids.includes(adId), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });

    // Its impression reported, the advertiser reads its delivery and spend from the ledger's report.
    const shown = (await served()).find((a) => a.adId === adId);
    expect(shown).toBeDefined();
    const impression = await fetch(shown!.tracking.impressionUrl);
    await impression.arrayBuffer();
    expect(impression.status).toBe(204);
    const day = 86_400_000;
    const [from, to] = [Date.now() - day, Date.now() + day].map((t) =>
      new Date(t).toISOString().slice(0, 10),
    );
    // A CPM bid of $900 is charged a positive price per impression, never above the bid.
    expect(shown!.price.amount).toBeGreaterThan(0);
    // The report reads the events and the ledger apart: wait for both to show the impression.
    const report = await eventually(
      'the campaign report to count the impression and its charge',
      () => api('GET', `/v1/reports/campaigns?from=${from}&to=${to}&campaignId=${campaignId}`),
      (r) => {
        const rows = r.body['campaigns'] as { impressions: number; spendMicros: number }[];
        return rows.some((row) => row.impressions >= 1) && rows.some((row) => row.spendMicros > 0);
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(report.status).toBe(200);
    const rows = report.body['campaigns'] as {
      campaignId: number;
      spendMicros: number;
      impressions: number;
    }[];
    expect(rows.every((row) => row.campaignId === campaignId)).toBe(true);
    // A CPM bid of $900: one impression charges up to $0.90.
    expect(rows.reduce((sum, row) => sum + row.spendMicros, 0)).toBeGreaterThan(0);

    // Active again, its diagnosis puts the requests it missed while paused down to the pause.
    const diagnosis = await eventually(
      'the diagnosis to count the paused requests',
      async () => {
        const res = await fetch(`${funnel.launcher.url('logging')}/v1/diagnostics/campaigns/${campaignId}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        expect(res.status).toBe(200);
        return (await res.json()) as {
          stages: { targetedPaused: number };
          diagnosis: string[];
          topReasons: { reason: string }[];
        };
      },
      (d) => d.stages.targetedPaused >= 5,
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(diagnosis.diagnosis).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^it was paused for part of the window: its targeting matched ${diagnosis.stages.targetedPaused} of the \\d+ ad requests since its first ad was created while it was paused$`,
        ),
      ),
    );
    expect(diagnosis.topReasons.map((r) => r.reason)).toContain('paused');
    expect(diagnosis.topReasons.map((r) => r.reason)).not.toContain('no_active_ads');
    process.stdout.write(
      `advertiser API to serving: served ${servedAfterMs.toFixed(0)} ms after the ad's creation, ` +
        `stopped ${stoppedAfterMs.toFixed(0)} ms after the pause\n`,
    );
  }, 120_000);
});
