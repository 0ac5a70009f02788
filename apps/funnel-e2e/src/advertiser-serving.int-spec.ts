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
 * then pauses it and sees it stop. The campaign targets a country no seeded campaign names and bids
 * far above them, so once the catalog change reaches serving it wins wherever it is a candidate.
 */
describe('an ad created through the advertiser API', () => {
  const funnel = new TestFunnel({
    basePort: 4200,
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
  const servedAdIds = async () => {
    users += 1;
    const { status, body } = await funnel.requestAds({
      userId: `adfh-adv-${users}`,
      surface: 'home_feed',
      country: 'NZ',
      device: 'desktop',
      slots: 3,
    });
    expect(status).toBe(200);
    return (body as unknown as AdResponse).ads.map((ad) => ad.adId);
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

  it('serves within seconds of its creation, and stops when paused', async () => {
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
    process.stdout.write(
      `advertiser API to serving: served ${servedAfterMs.toFixed(0)} ms after the ad's creation, ` +
        `stopped ${stoppedAfterMs.toFixed(0)} ms after the pause\n`,
    );
  }, 120_000);
});
