import { Agent, request } from 'node:http';
import { Rng } from '@adfunnel/simulator';
import { type LatencySummary, summarize } from './latency-stats.js';
import { RequestStream, type Vocabulary } from './request-mix.js';

export interface LoadRunOptions {
  url: string;
  concurrency: number;
  durationMs: number;
  users: number;
  seed: number;
  /** Sends this instead of an ad request (the baseline: GET /health). */
  baselinePath?: string;
  /** Where search queries and related-items contexts come from; read before every request. */
  vocabulary?: () => Vocabulary;
  /** Each served ad seen, as it arrives (to build a vocabulary from answers). */
  onServedAd?: (ad: { id: number; title: string }) => void;
  /**
   * Share of served ads whose impression URL is fired, in [0, 1]; 0 or absent fires none. Fired as
   * a client would once the ad is shown: without delaying the next request, outside its latency.
   */
  impressions?: number;
  /**
   * What a worker does after the gateway shed its request (503 with Retry-After): `retry-after`
   * (default) waits the seconds the gateway asked for, as a well-behaved client; `immediate` sends
   * the next request at once, as a client that ignores it.
   */
  onShed?: 'retry-after' | 'immediate';
}

/** The impression callbacks fired during a run, and how they went. */
export interface ImpressionStats {
  fired: number;
  /** Answered 204. */
  ok: number;
  failed: number;
  failureSamples: string[];
  latency: LatencySummary;
}

export interface LoadRunResult {
  concurrency: number;
  /** Ad requests answered 200: latency, throughput and the per-request figures count these. */
  requests: number;
  /** Requests the gateway shed (503 unavailable, reason overloaded_*), apart from the errors. */
  shed: number;
  /** How fast a shed request got its 503. */
  shedLatency: LatencySummary;
  errors: number;
  errorSamples: string[];
  throughput: number;
  latency: LatencySummary;
  stages: Record<string, LatencySummary>;
  /** Answers with at least one degradation. */
  degraded: number;
  /** Answers naming each degradation (an answer may name several). */
  degradedBy: Record<string, number>;
  fill: number;
  impressions: ImpressionStats;
}

interface ServedAdOnWire {
  adId: number;
  creative: { title: string };
  tracking: { impressionUrl: string };
}

/**
 * One HTTP exchange on a kept-alive connection. node:http rather than fetch: the client shares the
 * machine's two cores with the funnel, and fetch costs several times more CPU per request.
 */
function send(
  agent: Agent,
  url: URL,
  method: 'GET' | 'POST',
  body?: string,
): Promise<{ status: number; text: string; retryAfterS?: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method,
        headers:
          body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const retryAfter = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterS: retryAfter } : {}),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The run waits this long at most, after its last request, for the impression callbacks still in
 * flight, so their work falls inside the window whose CPU the bench samples.
 */
const IMPRESSION_DRAIN_MS = 10_000;

/**
 * Closed-loop load: `concurrency` workers each send a request, wait for the answer, and send the next,
 * for `durationMs`. Latency is measured by the client around the whole HTTP exchange. Impression
 * callbacks (options.impressions) go out on their own connections as answers arrive, and the run
 * returns once they have been answered (or after IMPRESSION_DRAIN_MS); throughput counts the ad
 * requests' window only.
 */
export async function runLoad(options: LoadRunOptions): Promise<LoadRunResult> {
  const latencies: number[] = [];
  const shedLatencies: number[] = [];
  const stageSamples: Record<string, number[]> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let degraded = 0;
  const degradedBy: Record<string, number> = {};
  let slotsAsked = 0;
  let slotsFilled = 0;
  const started = performance.now();
  const endAt = started + options.durationMs;

  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const impressionAgent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const adsUrl = new URL(`${options.url}/v1/ads`);
  const baselineUrl = new URL(`${options.url}${options.baselinePath ?? '/health'}`);
  const vocabulary = options.vocabulary ?? (() => ({ titles: [], adIds: [] }));
  const impressionShare = options.impressions ?? 0;
  const impressionLatencies: number[] = [];
  const impressions = { fired: 0, ok: 0, failed: 0, failureSamples: [] as string[] };
  const inFlight = new Set<Promise<void>>();
  const fireImpression = (url: string) => {
    impressions.fired++;
    const t0 = performance.now();
    const done = send(impressionAgent, new URL(url), 'GET')
      .then((res) => {
        impressionLatencies.push(performance.now() - t0);
        if (res.status === 204) impressions.ok++;
        else throw new Error(`${res.status} ${res.text.slice(0, 200)}`);
      })
      .catch((err: unknown) => {
        impressions.failed++;
        if (impressions.failureSamples.length < 5) impressions.failureSamples.push((err as Error).message);
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  const worker = async (w: number) => {
    const stream = new RequestStream(options.seed, w, options.users, vocabulary);
    // Its own stream, so the share of impressions fired does not change the requests sent.
    const impressionRng = Rng.derive(options.seed, 'bench-impressions', w);
    while (performance.now() < endAt) {
      const body = stream.next();
      const slots = body.slots ?? 3;
      const t0 = performance.now();
      try {
        const res = options.baselinePath
          ? await send(agent, baselineUrl, 'GET')
          : await send(agent, adsUrl, 'POST', JSON.stringify(body));
        const text = res.text;
        const ms = performance.now() - t0;
        if (res.status === 503 && /"reason":"overloaded_/.test(text)) {
          shedLatencies.push(ms);
          if ((options.onShed ?? 'retry-after') === 'retry-after' && res.retryAfterS !== undefined) {
            const waitMs = Math.min(res.retryAfterS * 1000, endAt - performance.now());
            if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
          }
          continue;
        }
        if (res.status !== 200) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        latencies.push(ms);
        if (options.baselinePath) continue;
        const answer = JSON.parse(text) as {
          ads: ServedAdOnWire[];
          degraded: string[];
          timingsMs: Record<string, number>;
        };
        slotsAsked += slots;
        slotsFilled += answer.ads.length;
        for (const ad of answer.ads) {
          options.onServedAd?.({ id: ad.adId, title: ad.creative.title });
          if (impressionShare > 0 && impressionRng.bernoulli(impressionShare)) {
            fireImpression(ad.tracking.impressionUrl);
          }
        }
        if (answer.degraded.length > 0) degraded++;
        for (const d of answer.degraded) degradedBy[d] = (degradedBy[d] ?? 0) + 1;
        for (const [stage, ms] of Object.entries(answer.timingsMs)) (stageSamples[stage] ??= []).push(ms);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise((resolve) => setTimeout(resolve, IMPRESSION_DRAIN_MS).unref()),
  ]);
  impressionAgent.destroy();
  const stages: Record<string, LatencySummary> = {};
  for (const [stage, samples] of Object.entries(stageSamples)) stages[stage] = summarize(samples);
  return {
    concurrency: options.concurrency,
    requests: latencies.length,
    shed: shedLatencies.length,
    shedLatency: summarize(shedLatencies),
    errors,
    errorSamples,
    throughput: latencies.length / elapsedS,
    latency: summarize(latencies),
    stages,
    degraded,
    degradedBy,
    fill: slotsAsked === 0 ? 0 : slotsFilled / slotsAsked,
    impressions: { ...impressions, latency: summarize(impressionLatencies) },
  };
}
