import { LatencyLimit, type LatencyWindow } from './latency-limit.js';

/** Why a request was shed: too many ad requests in flight, or the event loop running behind. */
export type ShedSignal = 'in_flight' | 'event_loop_delay';
export const SHED_SIGNALS: readonly ShedSignal[] = ['in_flight', 'event_loop_delay'];

/** The `reason` of a shed answer (`503 unavailable`), per signal. */
export const SHED_REASON: Record<ShedSignal, string> = {
  in_flight: 'overloaded_in_flight',
  event_loop_delay: 'overloaded_event_loop_delay',
};

export interface AdmissionLimits {
  /** Ad requests served at once; more are shed. 0: no limit. */
  maxInFlight: number;
  /**
   * Steers the in-flight limit (at most maxInFlight) to keep the admitted requests' 90th percentile
   * latency within this many ms (LatencyLimit). 0: the limit is maxInFlight.
   */
  targetLatencyMs: number;
  /** New requests are shed while the event loop runs this far behind (ms). 0: not watched. */
  maxEventLoopDelayMs: number;
}

/** Reads how far behind the event loop runs (EventLoopDelaySignal). */
export interface DelaySignal {
  delayMs(): number;
}

export type Admission =
  | { admitted: true; release: () => void }
  | { admitted: false; signal: ShedSignal; retryAfterSeconds: number; message: string };

export interface AdmissionSnapshot {
  inFlight: number;
  /** The limit in force (LatencyLimit's, or maxInFlight); 0: none. */
  limit: number;
  maxInFlight: number;
  targetLatencyMs: number;
  /** The adaptive limit's view: the lightly loaded median and the last window (ms). */
  latency?: { baselineMs: number | undefined; lastWindow: LatencyWindow | undefined };
  eventLoopDelayMs: number;
  maxEventLoopDelayMs: number;
  admitted: number;
  shed: Record<ShedSignal | 'total', number>;
}

/** Shed clients come back after 1 or 2 s, at random, so they do not all return in one wave. */
const RETRY_AFTER_SECONDS = [1, 2];
/**
 * Up to this many requests in flight (or maxInFlight, if lower) nothing is shed, and the adaptive
 * limit never goes lower: the load the funnel is measured and tuned at (README, Benchmark), where a
 * latency swing or a slow event loop is the machine's neighbours more often than this gateway's own
 * queue, and shedding would cost more than it saves.
 */
export const MIN_ADAPTIVE_LIMIT = 8;
/** The adaptive limit's window (ms): several moves a second, each on tens of requests at load. */
export const ADAPTIVE_WINDOW_MS = 250;

export interface AdmissionDeps {
  delay?: DelaySignal;
  /** Milliseconds, monotonic. */
  now?: () => number;
  random?: () => number;
}

/**
 * Decides, before a request's body is read, whether the gateway takes it on. Past the point where the
 * machine is busy, taking more only makes every request slower until all of them miss their deadline:
 * so a request is shed (503, Retry-After) when the in-flight limit is reached (`maxInFlight`, or less
 * while the admitted requests queue: LatencyLimit, steered by `targetLatencyMs`), or when the event
 * loop runs more than `maxEventLoopDelayMs` behind. The last catches a gateway starved of CPU at fewer
 * requests than the limit. Neither sheds up to MIN_ADAPTIVE_LIMIT in flight, so a machine slow for
 * reasons of its own (a GC pause, a neighbour's burst) cannot shut the gateway off.
 */
export class AdmissionController {
  private inFlight = 0;
  private admitted = 0;
  private readonly shed: Record<ShedSignal | 'total', number> = {
    total: 0,
    in_flight: 0,
    event_loop_delay: 0,
  };

  private readonly delay: DelaySignal;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly latencyLimit: LatencyLimit | undefined;
  /** Up to this many in flight nothing is shed: MIN_ADAPTIVE_LIMIT, or maxInFlight if lower. */
  private readonly floor: number;

  constructor(
    readonly limits: AdmissionLimits,
    deps: AdmissionDeps = {},
  ) {
    this.delay = deps.delay ?? { delayMs: () => 0 };
    this.now = deps.now ?? (() => performance.now());
    this.random = deps.random ?? Math.random;
    this.floor =
      limits.maxInFlight > 0 ? Math.min(MIN_ADAPTIVE_LIMIT, limits.maxInFlight) : MIN_ADAPTIVE_LIMIT;
    if (limits.maxInFlight > 0 && limits.targetLatencyMs > 0) {
      this.latencyLimit = new LatencyLimit(
        {
          max: limits.maxInFlight,
          min: this.floor,
          targetMs: limits.targetLatencyMs,
          windowMs: ADAPTIVE_WINDOW_MS,
        },
        this.now(),
      );
    }
  }

  get enabled(): boolean {
    return this.limits.maxInFlight > 0 || this.limits.maxEventLoopDelayMs > 0;
  }

  /** The in-flight limit in force; 0: none. */
  get limit(): number {
    return this.latencyLimit?.current ?? this.limits.maxInFlight;
  }

  admit(): Admission {
    const { maxEventLoopDelayMs } = this.limits;
    const limit = this.limit;
    if (limit > 0 && this.inFlight >= limit) {
      return this.refuse(
        'in_flight',
        limit === this.limits.maxInFlight
          ? `the gateway is serving its limit of ${limit} ad requests at once (GATEWAY_MAX_IN_FLIGHT)`
          : `the gateway is serving ${limit} ad requests at once, as many as it serves now without ` +
              `queueing them (adaptive, GATEWAY_MAX_IN_FLIGHT ${this.limits.maxInFlight} at most)`,
      );
    }
    if (maxEventLoopDelayMs > 0 && this.inFlight > this.floor) {
      const delayMs = this.delay.delayMs();
      if (delayMs > maxEventLoopDelayMs) {
        return this.refuse(
          'event_loop_delay',
          `the gateway's event loop runs ${Math.round(delayMs)} ms behind, more than ` +
            `GATEWAY_MAX_EVENT_LOOP_DELAY_MS ${maxEventLoopDelayMs}`,
        );
      }
    }
    this.inFlight++;
    this.admitted++;
    const admittedAt = this.now();
    const epoch = this.latencyLimit?.admitted(this.inFlight) ?? 0;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        const now = this.now();
        this.latencyLimit?.finished(epoch, now - admittedAt, now);
      },
    };
  }

  snapshot(): AdmissionSnapshot {
    return {
      inFlight: this.inFlight,
      limit: this.limit,
      maxInFlight: this.limits.maxInFlight,
      targetLatencyMs: this.limits.targetLatencyMs,
      ...(this.latencyLimit === undefined ? {} : { latency: latencyView(this.latencyLimit) }),
      eventLoopDelayMs: tenths(this.delay.delayMs()),
      maxEventLoopDelayMs: this.limits.maxEventLoopDelayMs,
      admitted: this.admitted,
      shed: { ...this.shed },
    };
  }

  private refuse(signal: ShedSignal, why: string): Admission {
    this.shed[signal]++;
    this.shed.total++;
    const index = Math.min(
      RETRY_AFTER_SECONDS.length - 1,
      Math.floor(this.random() * RETRY_AFTER_SECONDS.length),
    );
    const retryAfterSeconds = RETRY_AFTER_SECONDS[index] ?? 1;
    return { admitted: false, signal, retryAfterSeconds, message: `${why}; retry in ${retryAfterSeconds} s` };
  }
}

function latencyView(limit: LatencyLimit): NonNullable<AdmissionSnapshot['latency']> {
  const { baseline, lastWindow } = limit;
  return {
    baselineMs: baseline === undefined ? undefined : tenths(baseline),
    lastWindow:
      lastWindow === undefined ? undefined : { p50: tenths(lastWindow.p50), p90: tenths(lastWindow.p90) },
  };
}

function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}
