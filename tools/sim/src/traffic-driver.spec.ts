import { beforeEach, describe, expect, it } from '@jest/globals';
import type {
  ActivityReport,
  ActivityReportAnswer,
  AdRequestInput,
  AdResponse,
  CandidatesRequest,
  CandidatesResponse,
  ScoreRequest,
  ScoreResponse,
  ServedAd,
} from '@adfunnel/contracts';
import { TOPICS } from '@adfunnel/features';
import { DEMO_MARKETPLACE, PRODUCTS, Rng, adAt, campaignAt, userAt } from '@adfunnel/simulator';
import type { ConversionPost, FunnelClient } from './funnel-client.js';
import { MarketplaceOracle } from './oracle/marketplace-oracle.js';
import type { StageProbe } from './stage-probe.js';
import { SpecMismatchError, TrafficDriver, type TrafficDriverOptions, poisson } from './traffic-driver.js';

const spec = { ...DEMO_MARKETPLACE, advertisers: 30, ads: 900, users: 300 };
const oracle = MarketplaceOracle.build(spec);

/**
 * A funnel that answers like the real one, from the same marketplace: the oracle's best eligible
 * ads, priced at their bids, with tracking URLs that name the request and the slot.
 */
class MarketplaceFunnel implements FunnelClient {
  readonly calls: string[] = [];
  readonly advertiserOf = new Map<string, number>();
  /** Organic activity reports, with the number of ad requests the funnel had answered before each. */
  readonly reports: { report: ActivityReport; requestsBefore: number }[] = [];
  requests = 0;
  /** Ad ids shifted by this much, to play a catalog seeded from another spec. */
  shiftIds = 0;

  requestAds(body: AdRequestInput, requestId: string): Promise<AdResponse> {
    this.requests++;
    const index = Number(body.userId.slice(1)) - 1;
    const user = userAt(spec, index);
    const ctx = { surface: body.surface, device: body.device, country: body.country };
    const allocation = oracle.bestEligibleAllocation(user, ctx, body.slots ?? 3);
    const ads: ServedAd[] = allocation.adIds.map((adId, slot) => {
      const ad = adAt(spec, adId - 1);
      const campaign = campaignAt(spec, ad.campaignId - 1);
      const t = `${requestId}.${slot}`;
      this.advertiserOf.set(t, campaign.advertiserId);
      return {
        slot,
        position: slot,
        adId: adId + this.shiftIds,
        campaignId: campaign.id,
        advertiserId: campaign.advertiserId,
        creative: { title: ad.title, text: ad.text, imageUrl: ad.imageUrl, category: ad.category },
        price: { bidType: campaign.bidType, amount: campaign.bid / 2, currency: 'USD' },
        tracking: {
          impressionUrl: `http://logging.test/v1/events/impression?t=${t}`,
          clickUrl: `http://logging.test/v1/events/click?t=${t}`,
          hideUrl: `http://logging.test/v1/events/hide?t=${t}`,
        },
      };
    });
    return Promise.resolve({
      requestId,
      ads,
      ranking: 'model',
      modelVersion: 'test',
      personalized: true,
      degraded: [],
      stages: { retrieval: 'ok', ranking: 'ok', auction: 'ok' },
      timingsMs: {},
    });
  }

  reportActivity(report: ActivityReport): Promise<ActivityReportAnswer> {
    this.reports.push({ report, requestsBefore: this.requests });
    return Promise.resolve({ folded: report.events.length, duplicates: 0 });
  }

  impression(url: string): Promise<void> {
    this.calls.push(`impression ${url.split('t=')[1]}`);
    return Promise.resolve();
  }

  /** The click id is what the landing URL would carry; here, the click URL's token. */
  click(url: string): Promise<string> {
    this.calls.push(`click ${url.split('t=')[1]}`);
    return Promise.resolve(`click-${url.split('t=')[1]}`);
  }

  hide(url: string): Promise<void> {
    this.calls.push(`hide ${url.split('t=')[1]}`);
    return Promise.resolve();
  }

  conversion(conversion: ConversionPost): Promise<void> {
    const t = conversion.clickId.replace(/^click-/, '');
    this.calls.push(`conversion ${t} ${conversion.advertiserId} ${conversion.conversionId}`);
    return Promise.resolve();
  }
}

/** Stages that answer with the oracle's own top candidates and the true probabilities. */
class TruthfulStages implements StageProbe {
  /** Unset: the driver asks about every user as a cold-start one. */
  userContext?: StageProbe['userContext'];

  candidates(request: CandidatesRequest): Promise<CandidatesResponse> {
    const user = userAt(spec, Number(request.user.userId.slice(1)) - 1);
    const ctx = { surface: request.surface, device: request.user.device, country: request.user.country };
    const best = oracle.bestByValue(user, ctx, request.limit);
    return Promise.resolve({
      adIds: best.adIds,
      scores: best.scores,
      sources: best.adIds.map(() => 'exact' as const),
      indexVersion: 'test',
      eligible: best.eligible,
    });
  }

  score(request: ScoreRequest): Promise<ScoreResponse> {
    const user = userAt(spec, Number(request.user.userId.slice(1)) - 1);
    const ctx = { surface: request.surface, device: request.user.device, country: request.user.country };
    const pCtr = request.adIds.map((id) => oracle.pClickExamined(user, id, ctx));
    return Promise.resolve({
      modelVersion: 'truth',
      pCtr,
      pCvr: pCtr,
      featureSpec: 'fp',
      catalogVersion: 'v1',
    });
  }

  route(stage: 'retrieval' | 'ranking'): string {
    return `the truthful ${stage}`;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Stages nobody answers, as on a bus namespace the funnel does not listen in; or only ranking. */
class UnansweredStages extends TruthfulStages {
  constructor(private readonly silent: 'retrieval' | 'ranking') {
    super();
  }

  override candidates(request: CandidatesRequest): Promise<CandidatesResponse> {
    if (this.silent === 'retrieval')
      return Promise.reject(new Error('no service is listening on retrieval.candidates'));
    return super.candidates(request);
  }

  override score(): Promise<ScoreResponse> {
    return Promise.reject(new Error('no service is listening on ranking.score'));
  }

  override route(stage: 'retrieval' | 'ranking'): string {
    return `subject elsewhere.${stage}`;
  }
}

const options: TrafficDriverOptions = {
  spec,
  seed: 3,
  population: 60,
  arrivalsPerDay: 3000,
  startAt: 0,
  maxRequests: 400,
  durationMs: null,
  rate: 0,
  concurrency: 8,
  slots: 3,
  oracleSample: 0.25,
  organicPerVisit: 2,
  retrievalLimit: 50,
  gateway: 'test',
  runId: 'spec',
};

describe(TrafficDriver.name, () => {
  let funnel: MarketplaceFunnel;

  beforeEach(() => {
    funnel = new MarketplaceFunnel();
  });

  it('fires an impression per returned ad, clicks only what it shows, converts only what it clicked, reports hides', async () => {
    const sut = new TrafficDriver(options, funnel, oracle, new TruthfulStages());
    const s = await sut.run();
    expect(s.requests).toBe(400);
    expect(s.errors).toBe(0);
    expect(s.impressions).toBe(s.adsReturned);
    expect(s.fillRate).toBe(1);
    expect(s.clicks).toBeGreaterThan(0);
    expect(s.clicks).toBeLessThanOrEqual(s.examined);
    expect(s.examined).toBeLessThanOrEqual(s.impressions);
    expect(s.conversions).toBeLessThanOrEqual(s.clicks);
    const impressions = new Set(
      funnel.calls.filter((c) => c.startsWith('impression')).map((c) => c.split(' ')[1]),
    );
    for (const c of funnel.calls.filter((c) => !c.startsWith('impression')))
      expect(impressions.has(c.split(' ')[1])).toBe(true);
    // Every drawn hide is reported through its hide URL, and never on an ad that was clicked.
    const hides = funnel.calls.filter((c) => c.startsWith('hide')).map((c) => c.split(' ')[1]);
    expect(hides.length).toBe(s.hides);
    expect(s.hides).toBeGreaterThan(0);
    const clicked = new Set(funnel.calls.filter((c) => c.startsWith('click')).map((c) => c.split(' ')[1]));
    for (const t of hides) expect(clicked.has(t)).toBe(false);
    expect(s.trackingErrors.hide).toBe(0);
    const conversions = funnel.calls.filter((c) => c.startsWith('conversion'));
    expect(conversions.length).toBe(s.conversions);
    for (const c of conversions) {
      // The clicked ad's advertiser posts it, with an order id of its own for that shown ad.
      const [, t, advertiserId, conversionId] = c.split(' ');
      const [requestId, slot] = t.split('.');
      expect(Number(advertiserId)).toBe(funnel.advertiserOf.get(t));
      expect(conversionId).toBe(`${requestId}:${slot}`);
    }
    expect(s.revenue.total).toBeCloseTo(s.revenue.CPM + s.revenue.CPC + s.revenue.CPA, 9);
    expect(s.budgets.totalSpend).toBeCloseTo(s.revenue.total, 9);
    // The per-request outcomes (what sim compare pairs) add up to the run's totals.
    const total = (column: number[]) => column.reduce((x, y) => x + y, 0);
    const per = s.perRequest!;
    expect(per.seq).toHaveLength(s.requests);
    expect([total(per.impressions), total(per.clicks), total(per.conversions), total(per.hides)]).toEqual([
      s.impressions,
      s.clicks,
      s.conversions,
      s.hides,
    ]);
    expect(total(per.revenue)).toBeCloseTo(s.revenue.total, 9);
    expect(total(per.advertiserValue)).toBeCloseTo(s.advertiserValue, 9);
    expect(s.advertiserValue).toBeGreaterThan(0);
  });

  it("searches name a product of the user's top topic, related items carry an ad of a liked topic, and both are measured", async () => {
    const bodies: AdRequestInput[] = [];
    const requestAds = funnel.requestAds.bind(funnel);
    funnel.requestAds = async (body, requestId) => {
      bodies.push(body);
      return requestAds(body, requestId);
    };
    const probed: CandidatesRequest[] = [];
    const stages = new TruthfulStages();
    // What the gateway would build from logged activity: here one affinity, never the true interests.
    const observed = new Array<number>(TOPICS.length).fill(0).map((_, k) => (k === 2 ? 1 : 0));
    stages.userContext = (declared) => Promise.resolve({ ...declared, interests: observed, known: true });
    const candidates = stages.candidates.bind(stages);
    stages.candidates = (request) => {
      probed.push(request);
      return candidates(request);
    };

    const summary = await new TrafficDriver(options, funnel, oracle, stages).run();

    const searches = bodies.filter((b) => b.surface === 'search');
    const related = bodies.filter((b) => b.surface === 'related_items');
    expect(searches.length).toBeGreaterThan(50);
    expect(related.length).toBeGreaterThan(30);
    for (const body of searches) {
      const user = userAt(spec, Number(body.userId.slice(1)) - 1);
      const top = user.interests.indexOf(Math.max(...user.interests));
      expect(PRODUCTS[TOPICS[top]].some((p) => body.query === p || body.query?.endsWith(` ${p}`))).toBe(true);
      expect(body).not.toHaveProperty('contextAdId');
    }
    const bare = searches.filter((b) => Object.values(PRODUCTS).some((ps) => ps.includes(b.query!)));
    expect(bare.length).toBeGreaterThan(0);
    expect(bare.length).toBeLessThan(searches.length);
    let liking = 0;
    for (const body of related) {
      expect(body).not.toHaveProperty('query');
      const user = userAt(spec, Number(body.userId.slice(1)) - 1);
      liking += user.interests[oracle.topicOfAd(body.contextAdId!)];
    }
    // Context topics are drawn from the user's interests: far above a uniform topic's 1/16.
    expect(liking / related.length).toBeGreaterThan(2 / TOPICS.length);
    for (const body of bodies.filter((b) => b.surface === 'home_feed')) {
      expect(body).not.toHaveProperty('query');
      expect(body).not.toHaveProperty('contextAdId');
    }
    // The oracle probe asks retrieval the same question the gateway was asked.
    expect(probed.some((r) => r.query !== undefined)).toBe(true);
    expect(probed.some((r) => r.contextAdId !== undefined)).toBe(true);
    for (const r of probed) expect(r.user.interests).toEqual(observed);
    const m = summary.topicMatch!;
    expect(m.search.requests).toBe(searches.length);
    expect(m.relatedItems.requests).toBe(related.length);
    expect(m.search.served).toBeGreaterThan(0);
    expect(m.search.share).toBe(m.search.onTopic / m.search.served);
    expect(m.relatedItems.share).not.toBeNull();
  });

  it('is repeatable: the same seed makes the same users do the same things, whatever the concurrency', async () => {
    const a = await new TrafficDriver(options, funnel, oracle, null).run();
    const other = new MarketplaceFunnel();
    const b = await new TrafficDriver({ ...options, concurrency: 3 }, other, oracle, null).run();
    // Sums of floats may differ in the last bit with the order visits finish in.
    const outcome = (s: typeof a) =>
      JSON.stringify(
        [s.requests, s.impressions, s.examined, s.clicks, s.conversions, s.hides, s.revenue, s.byDay],
        (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v),
      );
    expect(outcome(b)).toEqual(outcome(a));
    expect([...other.calls].sort()).toEqual([...funnel.calls].sort());
    const c = await new TrafficDriver({ ...options, seed: 4 }, new MarketplaceFunnel(), oracle, null).run();
    expect(outcome(c)).not.toEqual(outcome(a));
  });

  it('tires users who visit often: engagement falls as a small population keeps coming back', async () => {
    const crowded = await new TrafficDriver(
      { ...options, population: 5, arrivalsPerDay: 2000, maxRequests: 300, oracleSample: 0 },
      funnel,
      oracle,
      null,
    ).run();
    const sparse = await new TrafficDriver(
      { ...options, population: 300, arrivalsPerDay: 200, maxRequests: 300, oracleSample: 0 },
      new MarketplaceFunnel(),
      oracle,
      null,
    ).run();
    expect(crowded.engagement.meanFatigueMultiplier!).toBeLessThan(0.6);
    expect(sparse.engagement.meanFatigueMultiplier!).toBeGreaterThan(0.9);
  });

  it('measures truthful stages at the oracle: recall 1, welfare efficiency 1, ranking at the Bayes floor', async () => {
    const s = await new TrafficDriver(options, funnel, oracle, new TruthfulStages()).run();
    const o = s.oracle!;
    expect(o.sampledRequests).toBeGreaterThan(60);
    expect(o.retrieval!.recall).toBe(1);
    expect(o.welfare!.efficiency).toBeCloseTo(1, 9);
    expect(o.ranking!.expectedLogloss).toBeCloseTo(o.ranking!.expectedBayesLogloss, 9);
    expect(o.probes.retrieval).toMatchObject({ asked: o.sampledRequests, failed: 0 });
    expect(o.probes.ranking).toMatchObject({ asked: o.sampledRequests, failed: 0 });
    expect(o.missing).toEqual({});
    expect(o.warnings).toEqual([]);
  });

  it('says why every oracle figure is missing when retrieval does not answer, and where it asked', async () => {
    const s = await new TrafficDriver(options, funnel, oracle, new UnansweredStages('retrieval')).run();
    const o = s.oracle!;
    expect(s.requests).toBe(400);
    expect(o.sampledRequests).toBe(0);
    expect([o.retrieval, o.ranking, o.welfare]).toEqual([null, null, null]);
    expect(o.probes.retrieval.asked).toBeGreaterThan(60);
    expect(o.probes.retrieval.failed).toBe(o.probes.retrieval.asked);
    expect(o.probes.ranking.asked).toBe(0);
    const reason =
      `retrieval did not answer on subject elsewhere.retrieval: ${o.probes.retrieval.asked} of ` +
      `${o.probes.retrieval.asked} probes failed (e.g. "no service is listening on retrieval.candidates")`;
    expect(o.missing).toEqual({
      retrieval: reason,
      ranking: reason,
      auc: reason,
      welfare: reason,
      efficiency: reason,
    });
  });

  it('keeps the retrieval and welfare figures when only ranking does not answer, and says why ranking has none', async () => {
    const s = await new TrafficDriver(options, funnel, oracle, new UnansweredStages('ranking')).run();
    const o = s.oracle!;
    expect(o.retrieval!.recall).toBe(1);
    expect(o.welfare!.efficiency).toBeCloseTo(1, 9);
    expect(o.ranking).toBeNull();
    expect(o.probes.ranking).toMatchObject({ asked: o.sampledRequests, failed: o.sampledRequests });
    expect(Object.keys(o.missing).sort()).toEqual(['auc', 'ranking']);
    expect(o.missing.ranking).toMatch(
      /^ranking did not answer on subject elsewhere\.ranking: (\d+) of \1 probes failed \(e\.g\. "no service is listening on ranking\.score"\)$/,
    );
  });

  it('warns when some probes failed: the figures are there but cover fewer requests', async () => {
    let calls = 0;
    const flaky = new TruthfulStages();
    const score = flaky.score.bind(flaky);
    flaky.score = (request) =>
      ++calls % 5 === 0
        ? Promise.reject(new Error('ranking.score did not answer within 5000 ms'))
        : score(request);
    const o = (await new TrafficDriver(options, funnel, oracle, flaky).run()).oracle!;
    expect(o.ranking!.rows).toBeGreaterThan(0);
    expect(o.missing).toEqual({});
    const t = o.probes.ranking;
    expect(t.failed).toBe(Math.floor(t.asked / 5));
    expect(o.warnings).toEqual([
      `ranking did not answer on the truthful ranking: ${t.failed} of ${t.asked} probes failed ` +
        `(e.g. "ranking.score did not answer within 5000 ms"); its figures cover the ${t.asked - t.failed} requests it answered`,
    ]);
  });

  it('stops with a clear error when the funnel serves ads of another marketplace', async () => {
    funnel.shiftIds = 1;
    const sut = new TrafficDriver(options, funnel, oracle, null);
    await expect(sut.run()).rejects.toThrow(SpecMismatchError);
    await expect(new TrafficDriver(options, funnel, oracle, null).run()).rejects.toThrow(/--spec-\* values/);
  });

  it("reports organic engagements before a visit's ad request, their categories leaning to the user's interests", async () => {
    const s = await new TrafficDriver({ ...options, oracleSample: 0 }, funnel, oracle, null).run();
    const events = funnel.reports.flatMap(({ report }) =>
      report.events.map((e) => ({ userId: report.userId, e })),
    );
    expect(s.organicEvents).toBe(events.length);
    // A Poisson mean of 2 per visit over 400 visits: 800 expected, sd about 28.
    expect(events.length).toBeGreaterThan(650);
    expect(events.length).toBeLessThan(950);
    expect(new Set(events.map(({ e }) => e.id)).size).toBe(events.length);
    // Each user's visits run in order: a report comes before that visit's ad request, never after all of them.
    expect(funnel.reports.every(({ requestsBefore }) => requestsBefore < 400)).toBe(true);
    // The share of a user's interest on the categories engaged with, against 1/16 for categories at random.
    let interestOnEngaged = 0;
    for (const { userId, e } of events) {
      expect(e.type).toBe('engagement');
      const user = userAt(spec, Number(userId.slice(1)) - 1);
      interestOnEngaged +=
        user.interests[TOPICS.indexOf((e as { category: (typeof TOPICS)[number] }).category)];
    }
    expect(interestOnEngaged / events.length).toBeGreaterThan(2 / 16);
    const none = new MarketplaceFunnel();
    await new TrafficDriver({ ...options, oracleSample: 0, organicPerVisit: 0 }, none, oracle, null).run();
    expect(none.reports).toEqual([]);
  });

  it('counts a refused organic report as a tracking error, and still serves the visit', async () => {
    const refusing: FunnelClient = {
      requestAds: (body, id) => funnel.requestAds(body, id),
      reportActivity: () => Promise.reject(new Error('503 activity store unavailable')),
      impression: (u) => funnel.impression(u),
      click: (u) => funnel.click(u),
      hide: (u) => funnel.hide(u),
      conversion: (u) => funnel.conversion(u),
    };
    const s = await new TrafficDriver(
      { ...options, maxRequests: 30, oracleSample: 0 },
      refusing,
      oracle,
      null,
    ).run();
    expect(s.trackingErrors.activity).toBeGreaterThan(0);
    expect(s.organicEvents).toBe(0);
    expect(s.requests).toBe(30);
    expect(s.errors).toBe(0);
  });

  it('draws Poisson counts with the mean asked', () => {
    const rng = new Rng(5);
    const draws = Array.from({ length: 20_000 }, () => poisson(rng, 2));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    expect(mean).toBeCloseTo(2, 1);
    expect(variance).toBeCloseTo(2, 0);
    expect(poisson(rng, 0)).toBe(0);
    expect(() => poisson(rng, -1)).toThrow(/poisson mean must be finite and >= 0/);
  });

  it('counts a failed ad request as an error and carries on', async () => {
    let n = 0;
    const flaky: FunnelClient = {
      requestAds: (body, id) =>
        ++n % 4 === 0 ? Promise.reject(new Error('503 unavailable')) : funnel.requestAds(body, id),
      reportActivity: (r) => funnel.reportActivity(r),
      impression: (u) => funnel.impression(u),
      click: (u) => funnel.click(u),
      hide: (u) => funnel.hide(u),
      conversion: (u) => funnel.conversion(u),
    };
    const s = await new TrafficDriver({ ...options, maxRequests: 40 }, flaky, oracle, null).run();
    expect(s.requests).toBe(40);
    expect(s.errors).toBe(10);
    expect(s.errorSamples[0]).toMatch(/503/);
  });

  it('sends each visit when the funnel clock reaches its simulated time, and stops at the simulated end', async () => {
    // A simulated hour in 200 ms of wall time, from 06:00.
    const wallStart = Date.now() + 50;
    const wallTimeOf = (at: number) => wallStart + ((at - 6 * 3600) * 1000) / 18_000;
    const sent: number[] = [];
    const timed = new MarketplaceFunnel();
    const requestAds = timed.requestAds.bind(timed);
    timed.requestAds = (body, requestId) => {
      sent.push(Date.now());
      return requestAds(body, requestId);
    };
    const sut = new TrafficDriver(
      { ...options, maxRequests: null, startAt: 6 * 3600, endAt: 7 * 3600, wallTimeOf, oracleSample: 0 },
      timed,
      oracle,
      null,
    );

    const s = await sut.run();

    // 3000 a day with the 06:00 trough of the daily cycle: some tens in that hour.
    expect(s.requests).toBeGreaterThan(20);
    expect(s.requests).toBeLessThan(200);
    expect(s.run.simulatedEnd).toBeLessThan(7 * 3600);
    expect(Math.min(...sent)).toBeGreaterThanOrEqual(wallStart);
    expect(Math.max(...sent)).toBeLessThanOrEqual(wallStart + 200 + 100);
    expect(sut.scheduleLag()).toMatchObject({ visits: s.requests, lateOverOneSecond: 0 });
  });
});
