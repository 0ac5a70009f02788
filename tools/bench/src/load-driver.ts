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
          ? await fetch(`${options.url}${options.baselinePath}`)
          : await fetch(`${options.url}/v1/ads`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
        const text = await res.text();
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
