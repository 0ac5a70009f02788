export interface LatencyLimitOptions {
  /** The limit never goes above this (GATEWAY_MAX_IN_FLIGHT). */
  max: number;
  /** Nor below this: a starved machine still serves a few requests at a time. */
  min: number;
  /**
   * A window whose 90th percentile latency is within this many ms is good enough: the limit does not
   * shrink on it, however the latency compares with the lightly loaded one (GATEWAY_TARGET_LATENCY_MS).
   */
  targetMs: number;
  /** How long a window of samples lasts before the limit moves (ms). */
  windowMs: number;
}

/** A window needs this many finished requests before the limit moves on it. */
const MIN_SAMPLES = 10;
/** A window ends early with this many, so the samples kept stay bounded at any throughput. */
const MAX_SAMPLES = 1000;
/** The share the limit keeps when the window queued. */
const DECREASE = 0.8;
/** A window queues when its median is more than this many times the lightly loaded median. */
const QUEUEING_RATIO = 2;
/**
 * The lightly loaded median forgets by rising this share a window that did not reach the limit (x2
 * in about 140 such windows, 35 s): windows at the limit are what it is compared with, and letting it
 * creep up through them would let a sustained overload raise its own tolerance.
 */
const BASELINE_DRIFT = 1.005;

export interface LatencyWindow {
  p50: number;
  p90: number;
}

/**
 * How many ad requests the gateway takes on at once, steered by their latency (additive increase,
 * multiplicative decrease). After each window (about `windowMs`, at least 10 finished requests) the
 * limit drops by a fifth when the window queued: its 90th percentile was above `targetMs` and its
 * median more than twice the lightly loaded median (the lowest window median, slowly forgotten in
 * windows below the limit, so it follows a machine that gets slower or faster). Otherwise it rises by one when the limit was
 * reached, being what held requests back. So the limit settles where more requests at once would
 * only wait, whatever the machine serves right now (neighbours on a shared machine, a slower stage),
 * which no fixed number does; and a machine slow at any load is not mistaken for an overloaded one.
 * Requests admitted before a decrease do not count after it: one slow burst shrinks it once.
 */
export class LatencyLimit {
  private limit: number;
  private epoch = 0;
  /** Requests admitted before the last decrease saw the higher limit: their latency is not counted. */
  private countsFrom = 0;
  private samples: number[] = [];
  private windowStartedAt: number;
  private peakInFlight = 0;
  private baselineMs = Number.POSITIVE_INFINITY;
  private last: LatencyWindow | undefined;

  constructor(
    private readonly options: LatencyLimitOptions,
    now: number,
  ) {
    if (options.min < 1 || options.min > options.max) {
      throw new RangeError(`latency limit: min ${options.min} must be from 1 to max ${options.max}`);
    }
    // Start low and rise: a gateway started into an overload sheds from its first requests.
    this.limit = Math.max(options.min, Math.min(options.max, 16));
    this.windowStartedAt = now;
  }

  get current(): number {
    return this.limit;
  }

  /** The median of lightly loaded windows (ms); undefined before the first window. */
  get baseline(): number | undefined {
    return Number.isFinite(this.baselineMs) ? this.baselineMs : undefined;
  }

  /** The last window's latency figures, for /health. */
  get lastWindow(): LatencyWindow | undefined {
    return this.last;
  }

  /** A request is taken on with `inFlight` then being served (itself included); returns its epoch. */
  admitted(inFlight: number): number {
    if (inFlight > this.peakInFlight) this.peakInFlight = inFlight;
    return this.epoch;
  }

  /** A request admitted in `epoch` finished after `latencyMs`. */
  finished(epoch: number, latencyMs: number, now: number): void {
    if (epoch < this.countsFrom) return;
    this.samples.push(latencyMs);
    const elapsed = now - this.windowStartedAt;
    if (
      (elapsed >= this.options.windowMs && this.samples.length >= MIN_SAMPLES) ||
      this.samples.length >= MAX_SAMPLES
    ) {
      this.move(now);
    }
  }

  private move(now: number): void {
    const sorted = this.samples.sort((a, b) => a - b);
    const window = { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
    this.last = window;
    const reached = this.peakInFlight >= this.limit;
    this.baselineMs = Math.min(window.p50, reached ? this.baselineMs : this.baselineMs * BASELINE_DRIFT);
    const queued = window.p90 > this.options.targetMs && window.p50 > QUEUEING_RATIO * this.baselineMs;
    if (queued) {
      this.limit = Math.max(this.options.min, Math.floor(this.limit * DECREASE));
      this.countsFrom = this.epoch + 1;
    } else if (reached) {
      this.limit = Math.min(this.options.max, this.limit + 1);
    }
    this.epoch++;
    this.samples = [];
    this.peakInFlight = 0;
    this.windowStartedAt = now;
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
