import {
  type AdRequestInput,
  type AdResponse,
  type ServedAd,
  SURFACES,
  type Surface,
  type UserContext,
} from '@adfunnel/contracts';
import { TOPICS, TOPIC_COUNT } from '@adfunnel/features';
import {
  type Arrival,
  BRAND_HEADS,
  type Engagement,
  FatigueState,
  PRODUCTS,
  type MarketplaceSpec,
  Rng,
  type SimUser,
  adAt,
  arrivals,
  respondToAd,
  userAt,
} from '@adfunnel/simulator';
import type { FunnelClient } from './funnel-client.js';
import type { MarketplaceOracle } from './oracle/marketplace-oracle.js';
import { OracleMetricsAccumulator } from './oracle/oracle-metrics.js';
import { TopicMatchAccumulator } from './oracle/topic-match.js';
import { RequestOutcomeLog, type OutcomeField } from './request-outcomes.js';
import { RunStats, type RunSummary } from './run-stats.js';
import type { StageProbe } from './stage-probe.js';

/** Share of requests per surface: feeds dominate, then search, then related-item rails. */
export const SURFACE_MIX: Record<Surface, number> = { home_feed: 0.5, search: 0.3, related_items: 0.2 };

export interface TrafficDriverOptions {
  spec: MarketplaceSpec;
  seed: number;
  /** Users 0..population-1 of the spec visit. */
  population: number;
  /** Simulated visits per simulated day (all users together). */
  arrivalsPerDay: number;
  /** Simulated clock at the start, seconds since midnight of day 0. */
  startAt: number;
  /** Stop after this many requests (null: no limit). */
  maxRequests: number | null;
  /** Stop starting requests after this much wall time (null: no limit). */
  durationMs: number | null;
  /** Stop at the first arrival at or after this simulated time, seconds (absent: no end). */
  endAt?: number;
  /**
   * Send each visit when the funnel's clock shows its simulated time: the wall epoch ms at which
   * that happens for `at` seconds of simulated time (a scaled CLOCK). Absent: `rate` paces visits.
   */
  wallTimeOf?: (at: number) => number;
  /** At most this many requests started per wall second; 0: as fast as `concurrency` allows. */
  rate: number;
  concurrency: number;
  slots: number;
  /** Share of requests also measured against the oracle (0..1). */
  oracleSample: number;
  /**
   * Mean organic engagements per visit (Poisson) the user has on the product before the ad request,
   * reported through POST /v1/activity; 0: none (serving then learns a user only from their ad events).
   */
  organicPerVisit: number;
  /** The gateway's RETRIEVAL_CANDIDATES: the oracle asks retrieval for as many. */
  retrievalLimit: number;
  /** Label of the funnel driven, for the summary. */
  gateway: string;
  /** Unique per run, so request ids of two runs never collide in the event store. */
  runId: string;
}

/** How late visits left against their simulated time, under `wallTimeOf`. */
export interface ScheduleLag {
  readonly visits: number;
  /** Visits sent more than a second (wall) after the funnel's clock passed their time. */
  readonly lateOverOneSecond: number;
  readonly maxLateMs: number;
}

export interface DriverProgress {
  started: number;
  completed: number;
  errors: number;
  impressions: number;
  clicks: number;
  elapsedMs: number;
}

/** The catalog the funnel serves is not the marketplace the driver simulates. */
export class SpecMismatchError extends Error {
  override readonly name = 'SpecMismatchError';
}

/**
 * Simulated users visit over simulated time, ask the real gateway for ads, and act on them through
 * the real tracking endpoints: an impression for every ad returned (a client renders all slots),
 * then examination by slot, clicks scaled by their fatigue, hides of examined ads not clicked,
 * conversions posted back as the advertiser would. One user's visits run in order, so their fatigue evolves the same way on every
 * run; each visit draws from its own seeded stream, so concurrency does not change the outcome.
 */
export class TrafficDriver {
  private readonly stats = new RunStats();
  private readonly fatigue = new Map<number, FatigueState>();
  private readonly oracleMetrics: OracleMetricsAccumulator;
  private readonly topicMatch = new TopicMatchAccumulator();
  private readonly outcomes = new RequestOutcomeLog();
  private simulatedStart = Number.NaN;
  private simulatedEnd = Number.NaN;
  private completed = 0;
  private lag = { visits: 0, lateOverOneSecond: 0, maxLateMs: 0 };
  private fatal: Error | null = null;
  private stopping = false;

  constructor(
    private readonly options: TrafficDriverOptions,
    private readonly funnel: FunnelClient,
    private readonly oracle: MarketplaceOracle,
    private readonly probe: StageProbe | null,
    private readonly onProgress: (progress: DriverProgress) => void = () => undefined,
  ) {
    if (options.maxRequests === null && options.durationMs === null && options.endAt === undefined) {
      throw new RangeError('the driver needs a request limit, a duration or a simulated end');
    }
    this.oracleMetrics = new OracleMetricsAccumulator(
      oracle,
      probe === null ? undefined : (stage) => probe.route(stage),
    );
  }

  async run(): Promise<RunSummary> {
    const o = this.options;
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    const lastVisitOf = new Map<number, Promise<void>>();
    let launched = 0;
    const stream = arrivals(o.spec, {
      seed: o.seed,
      population: o.population,
      arrivalsPerDay: o.arrivalsPerDay,
      startAt: o.startAt,
    });
    const timeUp = () => o.durationMs !== null && performance.now() - started >= o.durationMs;
    const heartbeat = setInterval(() => this.report(launched, started), 250);
    try {
      for (const arrival of stream) {
        if (
          this.stopping ||
          this.fatal !== null ||
          (o.maxRequests !== null && launched >= o.maxRequests) ||
          (o.endAt !== undefined && arrival.at >= o.endAt) ||
          timeUp()
        )
          break;
        if (o.wallTimeOf !== undefined) {
          const wait = o.wallTimeOf(arrival.at) - Date.now();
          if (wait > 0) await sleep(wait);
        } else if (o.rate > 0) {
          const wait = started + (launched * 1000) / o.rate - performance.now();
          if (wait > 0) await sleep(wait);
        }
        while (inFlight.size >= o.concurrency) await Promise.race(inFlight);
        if (this.stopping || this.fatal !== null || timeUp()) break;
        if (o.wallTimeOf !== undefined) this.recordLag(Date.now() - o.wallTimeOf(arrival.at));
        launched++;
        if (Number.isNaN(this.simulatedStart)) this.simulatedStart = arrival.at;
        this.simulatedEnd = arrival.at;
        const previous = lastVisitOf.get(arrival.userIndex) ?? Promise.resolve();
        const visit: Promise<void> = previous
          .then(() => this.visit(arrival))
          .catch((err: unknown) => {
            this.fatal ??= err instanceof Error ? err : new Error(String(err));
          })
          .finally(() => {
            inFlight.delete(visit);
            if (lastVisitOf.get(arrival.userIndex) === visit) lastVisitOf.delete(arrival.userIndex);
            this.completed++;
          });
        lastVisitOf.set(arrival.userIndex, visit);
        inFlight.add(visit);
      }
      await Promise.all(inFlight);
    } finally {
      clearInterval(heartbeat);
    }
    this.report(launched, started);
    if (this.fatal !== null) throw this.fatal;
    const summary = this.stats.summary(
      {
        gateway: o.gateway,
        spec: o.spec,
        seed: o.seed,
        population: o.population,
        arrivalsPerDay: o.arrivalsPerDay,
        slots: o.slots,
        simulatedStart: Number.isNaN(this.simulatedStart) ? o.startAt : this.simulatedStart,
        simulatedEnd: Number.isNaN(this.simulatedEnd) ? o.startAt : this.simulatedEnd,
        wallSeconds: (performance.now() - started) / 1000,
      },
      (campaignId) => this.oracle.campaign(campaignId).dailyBudget,
      this.probe === null || o.oracleSample === 0 ? null : this.oracleMetrics.result(),
    );
    summary.perRequest = this.outcomes.columns();
    summary.topicMatch = this.topicMatch.result();
    return summary;
  }

  scheduleLag(): ScheduleLag {
    return { ...this.lag };
  }

  /** Starts no more visits; run() resolves once those in flight have finished. */
  stop(): void {
    this.stopping = true;
  }

  private async visit(arrival: Arrival): Promise<void> {
    const o = this.options;
    const rng = Rng.derive(o.seed, 'visit', arrival.seq);
    const user = userAt(o.spec, arrival.userIndex);
    const fatigue = this.fatigueOf(arrival.userIndex, user);
    const engagement = fatigue.engagementAt(arrival.at);
    this.stats.recordRequest(arrival.userIndex, arrival.at, engagement.multiplier);
    this.outcomes.open(arrival.seq);
    const surface = SURFACES[rng.weightedIndex(SURFACES.map((s) => SURFACE_MIX[s]))];
    // Its own stream, so what the query or context item is does not shift the visit's other draws.
    const topicRng = Rng.derive(o.seed, 'request-topic', arrival.seq);
    const search = surface === 'search' ? searchQuery(user, topicRng) : null;
    const context = surface === 'related_items' ? this.contextAd(user, topicRng) : null;
    const body: AdRequestInput = {
      userId: user.id,
      surface,
      country: user.country,
      device: user.device,
      slots: o.slots,
      ...(search === null ? {} : { query: search.query }),
      ...(context === null ? {} : { contextAdId: context.adId }),
    };
    const requestId = `sim-${o.runId}-${arrival.seq}`;
    const sampling = Rng.derive(o.seed, 'oracle', arrival.seq);
    const sampled = this.probe !== null && sampling.next() < o.oracleSample;
    if (o.organicPerVisit > 0) await this.browse(user, arrival.seq);
    // The context the gateway builds from the activity logged before this visit, read before it.
    const probeUser = sampled ? await this.probeUserContext(user) : null;
    const t0 = performance.now();
    let answer: AdResponse;
    try {
      answer = await this.funnel.requestAds(body, requestId);
    } catch (err) {
      this.stats.recordError(err instanceof Error ? err.message : String(err));
      return;
    }
    this.stats.recordAnswer(answer, o.slots, performance.now() - t0);
    const shown = [...answer.ads].sort((a, b) => a.slot - b.slot);
    for (const ad of shown) this.checkAgainstSpec(ad);
    const servedTopics = shown.map((ad) => this.oracle.topicOfAd(ad.adId));
    if (search !== null) this.topicMatch.add('search', search.topic, servedTopics);
    if (context !== null) this.topicMatch.add('relatedItems', context.topic, servedTopics);
    for (const ad of shown) {
      await this.actOn(ad, requestId, arrival.seq, user, surface, engagement, fatigue, arrival.at, rng);
    }

    if (sampled) {
      const asked = {
        ...(search === null ? {} : { query: search.query }),
        ...(context === null ? {} : { contextAdId: context.adId }),
      };
      const drawSeed = sampling.nextUint32();
      if (probeUser !== null)
        await this.observe(user, probeUser, surface, asked, answer, requestId, drawSeed);
    }
  }

  /**
   * What the gateway passes the stages for this user: its activity as logging recorded it
   * (StageProbe.userContext), never the simulator's interests; a cold-start user when the probe
   * cannot tell. Null, counted as a failed retrieval probe, when reading the activity fails.
   */
  private async probeUserContext(user: SimUser): Promise<UserContext | null> {
    const declared = { userId: user.id, country: user.country, device: user.device };
    if (this.probe?.userContext === undefined) {
      return { ...declared, interests: new Array<number>(TOPIC_COUNT).fill(0), known: false };
    }
    try {
      return await this.probe.userContext(declared);
    } catch (err) {
      this.oracleMetrics.probeFailed('retrieval', `reading the user's activity: ${(err as Error).message}`);
      return null;
    }
  }

  /**
   * What the user does on the product before the ads load: a Poisson number (mean organicPerVisit) of
   * engagements with organic items, each of a topic drawn from their true interests (ORGANIC_INTEREST_SHARE
   * of them; the rest of any topic), reported as the surface would, by category name. The funnel sees
   * only the categories, never the interests they were drawn from. Its own stream, so turning it on
   * does not shift the visit's other draws.
   */
  private async browse(user: SimUser, seq: number): Promise<void> {
    const rng = Rng.derive(this.options.seed, 'organic', seq);
    const count = poisson(rng, this.options.organicPerVisit);
    if (count === 0) return;
    const events = Array.from({ length: count }, (_, i) => {
      const topic = rng.bernoulli(ORGANIC_INTEREST_SHARE)
        ? rng.weightedIndex(user.interests)
        : rng.int(TOPIC_COUNT);
      return {
        type: 'engagement' as const,
        id: `${this.options.runId}-${seq}-${i}`,
        category: TOPICS[topic],
      };
    });
    try {
      await this.funnel.reportActivity({ userId: user.id, events });
      this.stats.organicEvents += count;
    } catch (err) {
      this.stats.recordTrackingError('activity', err instanceof Error ? err.message : String(err));
    }
  }

  /** An item shown on a related-items page: an ad of a topic drawn from the user's true interests. */
  private contextAd(user: SimUser, rng: Rng): { adId: number; topic: number } {
    const topic = rng.weightedIndex(user.interests);
    return { adId: rng.pick(Array.from(this.oracle.adsOfTopic(topic))), topic };
  }

  /** One ad in one slot: rendered (impression), maybe examined, clicked, converted, or hidden. */
  private async actOn(
    ad: ServedAd,
    requestId: string,
    seq: number,
    user: SimUser,
    surface: Surface,
    engagement: Engagement,
    fatigue: FatigueState,
    at: number,
    rng: Rng,
  ): Promise<void> {
    const simAd = adAt(this.options.spec, ad.adId - 1);
    const response = respondToAd(
      user,
      simAd,
      { surface, device: user.device, position: ad.slot },
      engagement,
      rng,
    );
    const { bidType, amount } = ad.price;
    const tally = (field: OutcomeField, x = 1) => this.outcomes.add(seq, field, x);
    const charge = (usd: number) => {
      this.stats.charge(ad.campaignId, bidType, usd, at);
      tally('revenue', usd);
    };
    if (await this.track('impression', () => this.funnel.impression(ad.tracking.impressionUrl))) {
      this.stats.recordImpression(at);
      tally('impressions');
      if (bidType === 'CPM') charge(amount / 1000);
    }
    if (response.examined) {
      this.stats.examined++;
      fatigue.recordExposure(at, response.irrelevance);
    }
    if (response.hidden) {
      // The user's hide, whether or not the funnel takes it; a refusal is a tracking error.
      this.stats.hides++;
      tally('hides');
      await this.track('hide', () => this.funnel.hide(ad.tracking.hideUrl));
    }
    if (!response.clicked) return;
    let clickId = '';
    const clicked = () =>
      this.funnel.click(ad.tracking.clickUrl).then((id) => {
        clickId = id;
      });
    if (!(await this.track('click', clicked))) return;
    this.stats.recordClick(at);
    tally('clicks');
    if (bidType === 'CPC') charge(amount);
    if (!response.converted) return;
    // The advertiser's own order id: unique per shown ad of this run, so every simulated purchase counts once.
    const conversion = {
      clickUrl: ad.tracking.clickUrl,
      clickId,
      advertiserId: ad.advertiserId,
      conversionId: `${requestId}:${ad.slot}`,
    };
    if (!(await this.track('conversion', () => this.funnel.conversion(conversion)))) return;
    const value = this.oracle.valuePerConversionOfCampaign(ad.campaignId);
    this.stats.conversions++;
    this.stats.advertiserValue += value;
    tally('conversions');
    tally('advertiserValue', value);
    if (bidType === 'CPA') charge(amount);
  }

  private async track(
    kind: 'impression' | 'click' | 'conversion' | 'hide',
    call: () => Promise<void>,
  ): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (err) {
      this.stats.recordTrackingError(kind, err instanceof Error ? err.message : String(err));
      return false;
    }
  }

  /** Retrieval and ranking asked directly about the same request, then compared with the truth. */
  private async observe(
    user: SimUser,
    context: UserContext,
    surface: Surface,
    asked: { query?: string; contextAdId?: number },
    answer: AdResponse,
    requestId: string,
    drawSeed: number,
  ): Promise<void> {
    const o = this.options;
    const header = { requestId: `${requestId}-oracle`, deadlineAt: Date.now() + 5000 };
    let candidates;
    try {
      candidates = await this.probe!.candidates({
        ...header,
        user: context,
        surface,
        limit: o.retrievalLimit,
        ...asked,
      });
    } catch (err) {
      this.oracleMetrics.probeFailed('retrieval', (err as Error).message);
      return;
    }
    this.oracleMetrics.probeAnswered('retrieval');
    let pCtr: readonly number[] | null = null;
    let pCvr: readonly number[] | null = null;
    if (candidates.adIds.length > 0) {
      try {
        const scored = await this.probe!.score({
          ...header,
          user: context,
          surface,
          adIds: candidates.adIds,
        });
        if (scored.pCtr.length !== candidates.adIds.length) {
          throw new Error(
            `answered ${scored.pCtr.length} pCtr values for ${candidates.adIds.length} candidates`,
          );
        }
        pCtr = scored.pCtr;
        pCvr = scored.pCvr.length === scored.pCtr.length ? scored.pCvr : null;
        this.oracleMetrics.probeAnswered('ranking');
      } catch (err) {
        this.oracleMetrics.probeFailed('ranking', (err as Error).message);
      }
    }
    this.oracleMetrics.observe({
      user,
      ctx: { surface, device: user.device, country: user.country },
      slots: o.slots,
      retrievalLimit: o.retrievalLimit,
      retrieved: candidates.adIds,
      pCtr,
      pCvr,
      shown: answer.ads.map((a) => ({ slot: a.slot, adId: a.adId })),
      drawSeed,
    });
  }

  private checkAgainstSpec(ad: ServedAd): void {
    const { spec } = this.options;
    const hint =
      `the catalog was not seeded from the marketplace the driver simulates ` +
      `(seed ${spec.seed}, ${spec.advertisers} advertisers, ${spec.ads} ads, ${spec.users} users); ` +
      'pass the --spec-* values the catalog was seeded with (npm run catalog -- status shows them)';
    if (!Number.isInteger(ad.adId) || ad.adId < 1 || ad.adId > spec.ads) {
      throw new SpecMismatchError(`the gateway served ad ${ad.adId}, outside 1..${spec.ads}: ${hint}`);
    }
    const campaign = this.oracle.campaignOfAd(ad.adId);
    if (campaign.id !== ad.campaignId || campaign.advertiserId !== ad.advertiserId) {
      throw new SpecMismatchError(
        `the gateway served ad ${ad.adId} of campaign ${ad.campaignId} (advertiser ${ad.advertiserId}); ` +
          `the simulator has it in campaign ${campaign.id} (advertiser ${campaign.advertiserId}): ${hint}`,
      );
    }
  }

  private recordLag(lateMs: number): void {
    this.lag.visits++;
    if (lateMs > 1000) this.lag.lateOverOneSecond++;
    this.lag.maxLateMs = Math.max(this.lag.maxLateMs, Math.round(lateMs));
  }

  private fatigueOf(userIndex: number, user: SimUser): FatigueState {
    let state = this.fatigue.get(userIndex);
    if (state === undefined) {
      state = new FatigueState(user.adTolerance);
      this.fatigue.set(userIndex, state);
    }
    return state;
  }

  private report(launched: number, started: number): void {
    this.onProgress({
      started: launched,
      completed: this.completed,
      errors: this.stats.errors,
      impressions: this.stats.impressions,
      clicks: this.stats.clicks,
      elapsedMs: performance.now() - started,
    });
  }
}

/** Share of organic engagements on a topic of the user's interests; the rest are on any topic. */
export const ORGANIC_INTEREST_SHARE = 0.8;

/** A Poisson draw of mean `mean` (Knuth's method: means here are a few events). */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean >= 0) || !Number.isFinite(mean))
    throw new RangeError(`poisson mean must be finite and >= 0, got ${mean}`);
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng.next(); p > limit; p *= rng.next()) k++;
  return k;
}

/** Searches that also name a brand word ("Nova sneakers"). */
export const BRANDED_QUERY_SHARE = 0.3;

/**
 * What a simulated user searches for: a product of their top true interest topic (the words the
 * marketplace's ad titles use), sometimes with a brand word before it.
 */
export function searchQuery(user: SimUser, rng: Rng): { query: string; topic: number } {
  let top = 0;
  for (let k = 1; k < user.interests.length; k++) if (user.interests[k] > user.interests[top]) top = k;
  const product = rng.pick(PRODUCTS[TOPICS[top]]);
  const query = rng.bernoulli(BRANDED_QUERY_SHARE) ? `${rng.pick(BRAND_HEADS)} ${product}` : product;
  return { query, topic: top };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
