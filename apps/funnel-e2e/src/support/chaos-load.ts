import type { AdResponse, BidType, EventType } from '@adfunnel/contracts';
import { eventId } from '@adfunnel/tracking';

export interface ChaosLoadOptions {
  gatewayUrl: string;
  /** Every request id starts with it: what the reconciliation finds this run's rows by. */
  requestIdPrefix: string;
  /** Requests are sent at this rate whatever the answers (an open loop), up to maxInFlight at once. */
  ratePerSecond: number;
  maxInFlight: number;
  /** Requests go to users u00001..u<users>. */
  users: number;
  /** A tracking client retries an unacknowledged callback, backing off, for this long. */
  callbackRetryMs: number;
}

/** An ad an acknowledged answer (HTTP 200) carried. */
export interface AcknowledgedAd {
  requestId: string;
  slot: number;
  adId: number;
  bidType: BidType;
}

export interface CallbackState {
  eventId: string;
  type: Extract<EventType, 'impression' | 'click'>;
  requestId: string;
  bidType: BidType;
  /** Answered 204 (impression) or 302 (click). */
  acknowledged: boolean;
  attempts: number;
}

/**
 * The clients of the funnel during a fault: a product surface asking for ads at a steady rate, each
 * with an id of its own, and reporting every ad it got as an impression and every third as a click.
 * Like a tracking client it retries a callback that got no acknowledgement, and sends a quarter of
 * them again after they were acknowledged, not sure they landed. It records what was acknowledged,
 * which is what the funnel owes.
 */
export class ChaosLoad {
  readonly ads: AcknowledgedAd[] = [];
  readonly callbacks = new Map<string, CallbackState>();
  /** Requests without a 200, by what they got instead (a refused connection, a reset, a status). */
  readonly failed = new Map<string, number>();
  /** Acknowledged answers by what they said was degraded ('none' for a full answer). */
  readonly degraded = new Map<string, number>();
  acknowledgedRequests = 0;
  callbacksSent = 0;
  private sent = 0;
  private inFlight = 0;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: ChaosLoadOptions) {}

  get requestsSent(): number {
    return this.sent;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Sends no more requests, then waits for every request and callback still under way. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async run(): Promise<void> {
    const interval = 1000 / this.options.ratePerSecond;
    let due = performance.now();
    while (!this.stopping) {
      if (this.inFlight < this.options.maxInFlight) this.track(this.request(this.sent++));
      due += interval;
      await sleep(Math.max(0, due - performance.now()));
    }
  }

  private async request(n: number): Promise<void> {
    const requestId = `${this.options.requestIdPrefix}-${n}`;
    this.inFlight += 1;
    try {
      const res = await fetch(`${this.options.gatewayUrl}/v1/ads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify({
          userId: `u${String(1 + (n % this.options.users)).padStart(5, '0')}`,
          surface: 'home_feed',
          country: 'US',
          device: n % 3 === 0 ? 'desktop' : 'mobile',
          slots: 3,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 200) {
        await res.arrayBuffer();
        this.count(this.failed, `HTTP ${res.status}`);
        return;
      }
      const answer = (await res.json()) as AdResponse;
      this.acknowledgedRequests += 1;
      this.count(this.degraded, answer.degraded.length === 0 ? 'none' : answer.degraded.join('+'));
      for (const ad of answer.ads) {
        this.ads.push({ requestId, slot: ad.slot, adId: ad.adId, bidType: ad.price.bidType });
        this.track(this.report('impression', ad.tracking.impressionUrl, requestId, ad));
        if (this.ads.length % 3 === 0) this.track(this.report('click', ad.tracking.clickUrl, requestId, ad));
      }
    } catch (error) {
      this.count(this.failed, failureOf(error));
    } finally {
      this.inFlight -= 1;
    }
  }

  private async report(
    type: CallbackState['type'],
    url: string,
    requestId: string,
    ad: AdResponse['ads'][number],
  ): Promise<void> {
    const state: CallbackState = {
      eventId: eventId(type, { r: requestId, s: ad.slot, a: ad.adId }),
      type,
      requestId,
      bidType: ad.price.bidType,
      acknowledged: false,
      attempts: 0,
    };
    this.callbacks.set(state.eventId, state);
    const replay = this.callbacks.size % 4 === 0;
    const deadline = performance.now() + this.options.callbackRetryMs;
    let backoffMs = 250;
    while (!(await this.send(state, url))) {
      if (performance.now() + backoffMs > deadline) return;
      await sleep(backoffMs);
      backoffMs = Math.min(2 * backoffMs, 2000);
    }
    if (replay) await this.send(state, url);
  }

  private async send(state: CallbackState, url: string): Promise<boolean> {
    state.attempts += 1;
    this.callbacksSent += 1;
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 204 || res.status === 302) state.acknowledged = true;
      return state.acknowledged;
    } catch {
      // refused or reset while logging or its Redis is down: not acknowledged, so sent again
      return false;
    }
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private count(counts: Map<string, number>, key: string): void {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}

function failureOf(error: unknown): string {
  const err = error as Error & { cause?: { code?: string } };
  if (err.name === 'TimeoutError') return 'timeout';
  return err.cause?.code ?? err.message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
