import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdResponse } from '@adfunnel/contracts';
import { bucketOf } from '@adfunnel/experiments';
import { eventually } from '@adfunnel/testing';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { ROOT, TestFunnel, runCatalogCli } from './support/test-funnel.js';

/**
 * One layer, two arms of 40% each (half of what the 20% holdout leaves) that differ in mechanism and
 * utility weights; the auction's own mechanism (AUCTION_MECHANISM) is gsp, neither arm's.
 */
const EXPERIMENTS = {
  holdout: { salt: 'e2e-holdout', share: 0.2 },
  layers: [
    {
      name: 'auction',
      salt: 'e2e-auction',
      unit: 'user',
      experiments: [
        {
          name: 'pricing',
          arms: [
            { name: 'control', share: 0.5, overrides: { mechanism: 'vcg' } },
            {
              name: 'treatment',
              share: 0.5,
              overrides: { mechanism: 'first_price', utilityWeights: { hide: 2 } },
            },
          ],
        },
      ],
    },
  ],
};

/** The arms' buckets as the gateway lays them: [0, 5000) control, the rest treatment. */
function userIn(group: 'holdout' | 'control' | 'treatment'): string {
  for (let i = 1; ; i++) {
    const userId = `u${String(i).padStart(5, '0')}`;
    const held = bucketOf('e2e-holdout', userId) < 2000;
    const arm = bucketOf('e2e-auction', userId) < 5000 ? 'control' : 'treatment';
    if (group === 'holdout' ? held : !held && arm === group) return userId;
  }
}

/** The first `n` users the hash puts in `group`. */
function usersIn(group: 'holdout' | 'control' | 'treatment', n: number): string[] {
  const users: string[] = [];
  for (let i = 1; users.length < n; i++) {
    const userId = `u${String(i).padStart(5, '0')}`;
    const held = bucketOf('e2e-holdout', userId) < 2000;
    const arm = bucketOf('e2e-auction', userId) < 5000 ? 'control' : 'treatment';
    if (group === 'holdout' ? held : !held && arm === group) users.push(userId);
  }
  return users;
}

/** The part of logging's GET /v1/reports/experiments this test reads. */
interface ExperimentsReport {
  window: { requests: number };
  shares: { source: string; path?: string } | null;
  totals: {
    users: number;
    requests: number;
    impressions: number;
    clicks: number;
    hides: number;
    conversions: number;
    revenue: number;
    advertiserValue: number;
  };
  layers: {
    name: string;
    srm: {
      unit: string;
      groups: string[];
      counts: number[];
      shares: number[];
      pValue: number;
      mismatch: boolean;
    } | null;
    unassignedUsers: number;
    usersInSeveralArms: number;
    experiments: {
      name: string;
      control: string;
      arms: {
        arm: string;
        share: number | null;
        totals: {
          users: number;
          requests: number;
          ads: number;
          impressions: number;
          clicks: number;
          hides: number;
          conversions: number;
          revenue: number;
        };
        ctr: number | null;
        cvr: number | null;
      }[];
      comparisons: {
        arm: string;
        control: string;
        metrics: {
          metric: string;
          control: number | null;
          treatment: number | null;
          difference: { estimate: number; ci: [number, number]; pValue: number } | null;
          relativeLift: { estimate: number; ci: [number, number] } | null;
          unavailable?: string;
        }[];
      }[];
    }[];
  }[];
  holdout: {
    holdout: { totals: { users: number; requests: number } };
    rest: { totals: { users: number; requests: number } };
    srm: { groups: string[]; counts: number[]; shares: number[]; pValue: number } | null;
    comparison: { metric: string }[];
  };
}

interface ServedRow {
  request_id: string;
  experiment_arms: string | null;
  bid: number;
  price: number;
}

/**
 * The real funnel (its stages co-located, logging apart) with EXPERIMENTS_CONFIG: each user gets the
 * mechanism of the arm the hash puts them in, the trace and the served_ads rows say which arm, the
 * holdout gets the auction's own, and a file that does not validate is refused, at start and on reload.
 */
describe('experiments over the real funnel', () => {
  const receiver = new OtlpReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'adfunnel-experiments-'));
  const file = join(dir, 'experiments.json');
  writeFileSync(file, JSON.stringify(EXPERIMENTS, null, 2));
  let funnel: TestFunnel;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    funnel = new TestFunnel({
      basePort: 4600,
      runPrefix: 'adfh_exp',
      colocate: [['retrieval', 'ranking', 'auction', 'gateway']],
      env: {
        EXPERIMENTS_CONFIG: file,
        EXPERIMENTS_WATCH_MS: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        TRACING_SAMPLE_RATIO: '1',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    try {
      await funnel.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${funnel.output.join('\n')}`, {
        cause: err,
      });
    }
  }, 180_000);

  afterAll(async () => {
    await funnel?.stop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Serves `userId` until an answer has ads; its gateway span and its served_ads rows. */
  async function serve(
    userId: string,
  ): Promise<{ span: ReceivedSpan; rows: ServedRow[]; answer: AdResponse }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const requestId = `exp-${randomUUID()}`;
      const { status, body } = await funnel.requestAds(
        { userId, surface: 'home_feed', country: 'US', device: 'mobile', slots: 3 },
        { 'x-request-id': requestId },
      );
      expect(status).toBe(200);
      const answer = body as unknown as AdResponse;
      if (answer.ads.length === 0) continue;
      const spans = await eventually(
        `the gateway span of ${requestId}`,
        () => Promise.resolve(receiver.spans.slice()),
        (spans) =>
          spans.some(
            (s) =>
              s.attributes['adfunnel.request_id'] === requestId &&
              s.service === 'gateway' &&
              s.name === 'POST /v1/ads',
          ),
        { timeoutMs: 15_000 },
      );
      const span = spans.find(
        (s) =>
          s.attributes['adfunnel.request_id'] === requestId &&
          s.service === 'gateway' &&
          s.name === 'POST /v1/ads',
      )!;
      const rows = await funnel.eventually<ServedRow>(
        'SELECT request_id, experiment_arms, bid, price FROM served_ads WHERE request_id = $1',
        [requestId],
        (rows) => rows.length === answer.ads.length,
      );
      return { span, rows, answer };
    }
    throw new Error(`no ads for ${userId} in 10 requests`);
  }

  it("gives each user their arm's mechanism, says which in the trace, and labels the served rows", async () => {
    const control = await serve(userIn('control'));
    const treatment = await serve(userIn('treatment'));

    expect(control.span.attributes).toMatchObject({
      'adfunnel.experiment.arms': 'auction:pricing/control',
      'adfunnel.experiment.holdout': false,
      'adfunnel.auction.mechanism': 'vcg',
    });
    expect(treatment.span.attributes).toMatchObject({
      'adfunnel.experiment.arms': 'auction:pricing/treatment',
      'adfunnel.experiment.holdout': false,
      'adfunnel.auction.mechanism': 'first_price',
    });
    expect(control.rows.map((r) => r.experiment_arms)).toEqual(
      control.rows.map(() => 'auction:pricing/control'),
    );
    expect(treatment.rows.map((r) => r.experiment_arms)).toEqual(
      treatment.rows.map(() => 'auction:pricing/treatment'),
    );
    // First price: every winner pays its bid, what the answer's prices say too.
    for (const row of treatment.rows) expect(Number(row.price)).toBe(Number(row.bid));
    for (const row of control.rows) expect(Number(row.price)).toBeLessThanOrEqual(Number(row.bid));
    // No public field for the arms: the answer has the keys it has without experiments.
    expect(Object.keys(treatment.answer).sort()).toEqual([
      'ads',
      'degraded',
      'modelVersion',
      'personalized',
      'ranking',
      'requestId',
      'stages',
      'timingsMs',
    ]);
  }, 60_000);

  it("gives a held-out user no overrides: the auction's own mechanism, rows labelled holdout", async () => {
    const held = await serve(userIn('holdout'));
    expect(held.span.attributes).toMatchObject({
      'adfunnel.experiment.arms': 'holdout',
      'adfunnel.experiment.holdout': true,
      'adfunnel.auction.mechanism': 'gsp',
    });
    expect(held.rows.map((r) => r.experiment_arms)).toEqual(held.rows.map(() => 'holdout'));
  }, 60_000);

  it("reports per arm what was served to each arm's users, with intervals and the sample-ratio checks", async () => {
    const prefix = `expr-${randomUUID().slice(0, 8)}-`;
    // The CUPED pre-period below ends here: the earlier tests' requests (some of the same users) are in it.
    const preTo = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    type Group = 'control' | 'treatment' | 'holdout';
    interface Tally {
      users: Set<string>;
      requests: number;
      ads: number;
      clicks: number;
      hides: number;
      conversions: number;
    }
    const tally = (): Tally => ({
      users: new Set(),
      requests: 0,
      ads: 0,
      clicks: 0,
      hides: 0,
      conversions: 0,
    });
    const served: Record<Group, Tally> = { control: tally(), treatment: tally(), holdout: tally() };
    const clicks: { group: Group; advertiserId: number; clickId: string }[] = [];
    const plan: [Group, string[]][] = [
      ['control', usersIn('control', 8)],
      ['treatment', usersIn('treatment', 8)],
      ['holdout', usersIn('holdout', 4)],
    ];
    for (const [group, users] of plan) {
      for (const [i, userId] of users.entries()) {
        // Two requests for every other user: the user, not the request, is the unit.
        for (let r = 0; r < (i % 2 === 0 ? 2 : 1); r++) {
          const { status, body } = await funnel.requestAds(
            { userId, surface: 'home_feed', country: 'US', device: 'mobile', slots: 3 },
            { 'x-request-id': `${prefix}${group}-${i}-${r}` },
          );
          expect(status).toBe(200);
          const { ads } = body as unknown as AdResponse;
          if (ads.length === 0) continue;
          const counted = served[group];
          counted.users.add(userId);
          counted.requests += 1;
          counted.ads += ads.length;
          for (const ad of ads) expect((await fetch(ad.tracking.impressionUrl)).status).toBe(204);
          // Treatment users click more; every third user hides the last ad.
          if (i % (group === 'treatment' ? 2 : 3) === 0) {
            const click = await fetch(ads[0].tracking.clickUrl, { redirect: 'manual' });
            expect(click.status).toBe(302);
            const clickId =
              new URL(click.headers.get('location') ?? '').searchParams.get('adf_click_id') ?? '';
            clicks.push({ group, advertiserId: ads[0].advertiserId, clickId });
            counted.clicks += 1;
          }
          if (i % 3 === 1 && ads.length > 1) {
            expect((await fetch(ads[ads.length - 1].tracking.hideUrl)).status).toBe(204);
            counted.hides += 1;
          }
        }
      }
    }
    // Every other click converts (most winners are CPA campaigns: what the ledger charges).
    const keyFile = join(dir, 'keys.json');
    runCatalogCli(funnel.databaseUrl, ['api-keys', 'issue', '--advertiser', 'all', '--out', keyFile]);
    const keys = new Map(
      (
        JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: { advertiserId: number; key: string }[] }
      ).keys.map((k) => [k.advertiserId, k.key]),
    );
    for (const [i, click] of clicks.entries()) {
      if (i % 2 !== 0) continue;
      const res = await fetch(`${funnel.launcher.url('logging')}/v1/conversions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${keys.get(click.advertiserId)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ clickId: click.clickId, conversionId: `${prefix}order-${i}` }),
      });
      expect(res.status).toBe(202);
      served[click.group].conversions += 1;
    }
    const total = (key: 'requests' | 'ads' | 'clicks' | 'hides' | 'conversions') =>
      served.control[key] + served.treatment[key] + served.holdout[key];
    expect(served.control.users.size).toBeGreaterThanOrEqual(4);
    expect(served.treatment.users.size).toBeGreaterThanOrEqual(4);

    const token = funnel.launcher.operatorEnv()['ADMIN_TOKEN'];
    const logging = funnel.launcher.url('logging');
    const report = async (extra = ''): Promise<ExperimentsReport> => {
      const res = await fetch(
        `${logging}/v1/reports/experiments?windowMs=600000&requestIdPrefix=${encodeURIComponent(prefix)}${extra}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(res.status).toBe(200);
      return (await res.json()) as ExperimentsReport;
    };
    expect((await fetch(`${logging}/v1/reports/experiments`)).status).toBe(401);

    // The events and the ledger are written by logging's workers: wait for all of them, the
    // report's revenue being what the ledger charged for the run's requests.
    const ledgerUsd = async () =>
      Number(
        (
          await funnel.db.query<{ micros: string | null }>(
            'SELECT SUM(charged_micros) AS micros FROM ledger_entries WHERE request_id LIKE $1',
            [`${prefix}%`],
          )
        ).rows[0].micros ?? 0,
      ) / 1e6;
    const { answer, charged } = await eventually(
      'the report to count every event and charge',
      async () => ({ answer: await report(), charged: await ledgerUsd() }),
      ({ answer: r, charged: usd }) =>
        r.totals.impressions === total('ads') &&
        r.totals.clicks === total('clicks') &&
        r.totals.hides === total('hides') &&
        r.totals.conversions === total('conversions') &&
        Math.abs(r.totals.revenue - usd) < 1e-9,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(charged).toBeGreaterThan(0);
    expect(answer.shares).toEqual({ source: 'EXPERIMENTS_CONFIG', path: file });
    expect(answer.totals).toMatchObject({
      users: served.control.users.size + served.treatment.users.size + served.holdout.users.size,
      requests: total('requests'),
    });

    const [layer] = answer.layers;
    expect(layer.name).toBe('auction');
    expect(layer.usersInSeveralArms).toBe(0);
    expect(layer.unassignedUsers).toBe(0);
    const [pricing] = layer.experiments;
    expect(pricing).toMatchObject({ name: 'pricing', control: 'control' });
    for (const group of ['control', 'treatment'] as const) {
      const arm = pricing.arms.find((a) => a.arm === group)!;
      expect(arm.share).toBe(0.5);
      expect(arm.totals).toMatchObject({
        users: served[group].users.size,
        requests: served[group].requests,
        ads: served[group].ads,
        impressions: served[group].ads,
        clicks: served[group].clicks,
        hides: served[group].hides,
        conversions: served[group].conversions,
      });
      expect(arm.ctr).toBeCloseTo(served[group].clicks / served[group].ads, 12);
      expect(arm.cvr).toBeCloseTo(served[group].conversions / served[group].clicks, 12);
    }
    const [comparison] = pricing.comparisons;
    expect(comparison).toMatchObject({ arm: 'treatment', control: 'control' });
    const ctr = comparison.metrics.find((m) => m.metric === 'ctr')!;
    expect(ctr.difference!.estimate).toBeCloseTo(
      served.treatment.clicks / served.treatment.ads - served.control.clicks / served.control.ads,
      12,
    );
    for (const m of comparison.metrics.filter((m) => m.difference !== null)) {
      expect(m.difference!.ci[0]).toBeLessThanOrEqual(m.difference!.estimate);
      expect(m.difference!.ci[1]).toBeGreaterThanOrEqual(m.difference!.estimate);
      expect(m.difference!.pValue).toBeGreaterThanOrEqual(0);
      expect(m.difference!.pValue).toBeLessThanOrEqual(1);
    }
    const conversions = comparison.metrics.find((m) => m.metric === 'conversions')!;
    expect(conversions.control).toBeCloseTo(served.control.conversions / served.control.users.size, 12);
    expect(conversions.treatment).toBeCloseTo(served.treatment.conversions / served.treatment.users.size, 12);
    expect(answer.totals.advertiserValue).toBeGreaterThan(0);

    expect(layer.srm).toMatchObject({
      unit: 'user',
      groups: ['pricing/control', 'pricing/treatment'],
      counts: [served.control.users.size, served.treatment.users.size],
      shares: [0.5, 0.5],
    });
    expect(layer.srm!.pValue).toBeGreaterThan(0.001);
    expect(layer.srm!.mismatch).toBe(false);
    expect(answer.holdout.holdout.totals).toMatchObject({
      users: served.holdout.users.size,
      requests: served.holdout.requests,
    });
    expect(answer.holdout.srm).toMatchObject({
      groups: ['holdout', 'rest'],
      counts: [served.holdout.users.size, served.control.users.size + served.treatment.users.size],
      shares: [0.2, 0.8],
    });
    expect(answer.holdout.comparison.length).toBe(10);

    // CUPED over the earlier tests' requests (the window starts after them), and the series by the
    // hour; the plain comparison is the one without a pre-period.
    const res = await fetch(
      `${logging}/v1/reports/experiments?windowMs=${Date.now() - preTo - 500}&requestIdPrefix=${encodeURIComponent(prefix)}` +
        `&preFrom=${preTo - 600_000}&preTo=${preTo}&bucket=hour`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(res.status).toBe(200);
    const withPre = (await res.json()) as ExperimentsReport & {
      window: { since: number };
      prePeriod: { since: number; until: number; requests: number } | null;
      series: { bucket: string };
      cuped: { preRequests: number; preUsers: number } | null;
    };
    expect(withPre.totals).toEqual(answer.totals);
    expect(withPre.prePeriod).toMatchObject({ since: preTo - 600_000, until: preTo });
    expect(withPre.prePeriod!.requests).toBeGreaterThan(0);
    expect(withPre.series.bucket).toBe('hour');
    const cupedMetrics = withPre.layers[0].experiments[0].comparisons[0]
      .metrics as (ExperimentsReport['layers'][0]['experiments'][0]['comparisons'][0]['metrics'][0] & {
      cuped?: { ciWidthRatio: number } | null;
      cupedUnavailable?: string;
    })[];
    for (const m of cupedMetrics) {
      expect(m.cuped === null ? typeof m.cupedUnavailable : typeof m.cuped?.ciWidthRatio).toBe(
        m.cuped === null ? 'string' : 'number',
      );
    }
    expect(cupedMetrics.find((m) => m.metric === 'ctr')!.difference).toEqual(ctr.difference);
    const overlapping = await fetch(
      `${logging}/v1/reports/experiments?preFrom=${new Date(Date.now() - 3_600_000).toISOString()}&preTo=${new Date(Date.now() + 3_600_000).toISOString()}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(overlapping.status).toBe(400);
    expect(((await overlapping.json()) as { message: string }).message).toMatch(
      /overlaps the window .*: it must end at or before the window's start/,
    );

    // The CLI: the same counts, the shares from --config, as JSON and as tables.
    const cli = (args: string[]) =>
      spawnSync(
        process.execPath,
        [join(ROOT, 'tools', 'experiments', 'dist', 'experiments-cli.js'), ...args],
        {
          cwd: ROOT,
          env: { PATH: process.env['PATH'] ?? '', ADMIN_TOKEN: token ?? '' },
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
    const common = [
      'report',
      '--window-ms',
      '600000',
      '--request-id-prefix',
      prefix,
      '--logging-url',
      logging,
      '--config',
      file,
    ];
    const json = cli([...common, '--json']);
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    const fromCli = JSON.parse(json.stdout) as ExperimentsReport;
    expect(fromCli.shares).toEqual({ source: 'query' });
    expect(fromCli.layers[0].srm).toEqual(layer.srm);
    expect(fromCli.totals).toEqual(answer.totals);
    const tables = cli(common);
    expect(tables.status).toBe(0);
    expect(tables.stdout).toContain(`${total('requests')} labelled requests`);
    expect(tables.stdout).toContain('layer auction: sample ratio over users');
    expect(tables.stdout).toMatch(/^ {4}treatment against control:$/m);
    expect(tables.stdout).toMatch(/^ {6}CTR +\d\.\d{4} +\d\.\d{4} +[+-]\d\.\d{4} \[/m);
    // The HTML report beside the tables, with CUPED over the day before.
    const htmlFile = join(dir, 'report.html');
    const html = cli([...common, '--pre-days', '1', '--html', htmlFile]);
    expect(html.status).toBe(0);
    expect(html.stderr).toBe(`experiments: wrote ${htmlFile}\n`);
    expect(html.stdout).toContain('CUPED pre-period');
    const page = readFileSync(htmlFile, 'utf8');
    expect(page).toContain('<h2>Layer auction</h2>');
    expect(page.match(/<svg /g)?.length).toBe(12);
    expect(page).not.toMatch(/<script/i);
  }, 120_000);

  it('shows the serving config, and keeps it when a reload does not validate, saying why', async () => {
    const admin = (
      path: string,
      init: RequestInit = {},
      token = funnel.launcher.operatorEnv()['ADMIN_TOKEN'],
    ) =>
      fetch(`${funnel.gatewayUrl}/admin/experiments${path}`, {
        ...init,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    expect((await admin('', {}, 'not-the-token-not-the-token')).status).toBe(401);

    const shown = await admin('');
    expect(shown.status).toBe(200);
    const view = (await shown.json()) as { hash: string };
    expect(view).toMatchObject({
      enabled: true,
      path: file,
      hash: expect.stringMatching(/^[0-9a-f]{16}$/),
      holdout: { share: 0.2 },
      layers: [{ name: 'auction', unit: 'user', experiments: [{ name: 'pricing' }] }],
    });

    const bad = structuredClone(EXPERIMENTS);
    bad.layers[0].experiments[0].arms[1].share = 0.7;
    writeFileSync(file, JSON.stringify(bad));
    const refused = await admin('/reload', { method: 'POST' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      code: 'invalid_request',
      reason: 'invalid_experiments_config',
      message: `not reloaded, still serving sha256 ${view.hash}: EXPERIMENTS_CONFIG: ${file}: layers[0].experiments[0].arms: shares sum to 1.2, more than 1`,
    });
    expect(await (await admin('')).json()).toMatchObject({ hash: view.hash });
    // Still assigning by the old file.
    expect((await serve(userIn('treatment'))).span.attributes['adfunnel.auction.mechanism']).toBe(
      'first_price',
    );

    const everyoneVcg = structuredClone(EXPERIMENTS);
    everyoneVcg.layers[0].experiments[0].arms[1].overrides = {
      mechanism: 'vcg',
      utilityWeights: { hide: 2 },
    };
    writeFileSync(file, JSON.stringify(everyoneVcg));
    const reloaded = await admin('/reload', { method: 'POST' });
    expect(reloaded.status).toBe(200);
    expect(await reloaded.json()).toMatchObject({ outcome: 'reloaded', previousHash: view.hash });
    expect((await serve(userIn('treatment'))).span.attributes['adfunnel.auction.mechanism']).toBe('vcg');
  }, 90_000);

  it('refuses to start a gateway whose EXPERIMENTS_CONFIG does not validate, naming the variable and each problem', () => {
    const bad = structuredClone(EXPERIMENTS);
    bad.layers[0].experiments[0].arms[1].share = 0.7;
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify(bad));
    const started = spawnSync(process.execPath, [join(ROOT, 'apps', 'gateway', 'dist', 'main.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        TRACKING_SECRET: 'experiments-e2e-secret-0123456789',
        EXPERIMENTS_CONFIG: badFile,
        GATEWAY_PORT: '4690',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(started.status).toBe(1);
    expect(started.stderr).toContain(
      `config error: EXPERIMENTS_CONFIG: ${badFile}: layers[0].experiments[0].arms: shares sum to 1.2, more than 1`,
    );
  });
});
