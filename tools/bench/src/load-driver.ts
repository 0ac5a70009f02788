import { Agent, request } from 'node:http';
import { COUNTRIES, DEVICES, SURFACES } from '@adfunnel/contracts';
import { Rng, userIdAt } from '@adfunnel/simulator';
import { type LatencySummary, summarize } from './latency-stats.js';

export interface LoadRunOptions {
  url: string;
  concurrency: number;
  durationMs: number;
  users: number;
  seed: number;
  /** Sends this instead of an ad request (the baseline: GET /health). */
  baselinePath?: string;
}

export interface LoadRunResult {
  concurrency: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  throughput: number;
  latency: LatencySummary;
  stages: Record<string, LatencySummary>;
  degraded: number;
  fill: number;
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
): Promise<{ status: number; text: string }> {
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
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Closed-loop load: `concurrency` workers each send a request, wait for the answer, and send the next,
 * for `durationMs`. Latency is measured by the client around the whole HTTP exchange.
 */
export async function runLoad(options: LoadRunOptions): Promise<LoadRunResult> {
  const latencies: number[] = [];
  const stageSamples: Record<string, number[]> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let degraded = 0;
  let slotsAsked = 0;
  let slotsFilled = 0;
  const started = performance.now();
  const endAt = started + options.durationMs;

  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const adsUrl = new URL(`${options.url}/v1/ads`);
  const baselineUrl = new URL(`${options.url}${options.baselinePath ?? '/health'}`);
  const worker = async (w: number) => {
    const rng = Rng.derive(options.seed, 'bench-worker', w);
    while (performance.now() < endAt) {
      const body = {
        userId: userIdAt(rng.int(options.users)),
        surface: rng.pick(SURFACES),
        country: rng.pick(COUNTRIES),
        device: rng.pick(DEVICES),
        slots: 3,
      };
      const t0 = performance.now();
      try {
        const res = options.baselinePath
          ? await send(agent, baselineUrl, 'GET')
          : await send(agent, adsUrl, 'POST', JSON.stringify(body));
        const text = res.text;
        latencies.push(performance.now() - t0);
        if (res.status !== 200) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        if (options.baselinePath) continue;
        const answer = JSON.parse(text) as {
          ads: unknown[];
          degraded: string[];
          timingsMs: Record<string, number>;
        };
        slotsAsked += body.slots;
        slotsFilled += answer.ads.length;
        if (answer.degraded.length > 0) degraded++;
        for (const [stage, ms] of Object.entries(answer.timingsMs)) (stageSamples[stage] ??= []).push(ms);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  agent.destroy();
  const elapsedS = (performance.now() - started) / 1000;
  const stages: Record<string, LatencySummary> = {};
  for (const [stage, samples] of Object.entries(stageSamples)) stages[stage] = summarize(samples);
  return {
    concurrency: options.concurrency,
    requests: latencies.length,
    errors,
    errorSamples,
    throughput: latencies.length / elapsedS,
    latency: summarize(latencies),
    stages,
    degraded,
    fill: slotsAsked === 0 ? 0 : slotsFilled / slotsAsked,
  };
}
