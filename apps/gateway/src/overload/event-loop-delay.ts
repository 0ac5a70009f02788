import { monitorEventLoopDelay } from 'node:perf_hooks';

/** The part of node's event-loop delay histogram the signal reads (nanoseconds). */
export interface DelayHistogram {
  readonly count: number;
  readonly max: number;
  reset(): void;
}

/** How often node's timer samples the loop, in ms; an idle loop reads this much delay. */
const RESOLUTION_MS = 10;
/** How far back the signal looks: short, so it stops shedding soon after the loop catches up. */
export const EVENT_LOOP_WINDOW_MS = 100;

/**
 * How far behind the event loop runs: the longest a timer waited beyond its due time during the
 * last window of about 100 ms. Read lazily, when a request asks, so an idle gateway does no work for
 * it; the histogram itself is node's (monitorEventLoopDelay), which samples on its own timer.
 */
export class EventLoopDelaySignal {
  private recentMs = 0;
  private windowStartedAt: number;

  constructor(
    private readonly histogram: DelayHistogram,
    private readonly now: () => number = () => performance.now(),
    private readonly windowMs = EVENT_LOOP_WINDOW_MS,
  ) {
    this.windowStartedAt = now();
  }

  /** A signal on node's own histogram, sampling every 10 ms; `stop` ends the sampling. */
  static start(): { signal: EventLoopDelaySignal; stop: () => void } {
    const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    histogram.enable();
    return { signal: new EventLoopDelaySignal(histogram), stop: () => histogram.disable() };
  }

  /** The delay of the last full window, in ms (0 until one has passed). */
  delayMs(): number {
    const now = this.now();
    if (now - this.windowStartedAt >= this.windowMs) {
      // The histogram holds intervals between samples: the due interval is the resolution.
      this.recentMs = this.histogram.count === 0 ? 0 : Math.max(0, this.histogram.max / 1e6 - RESOLUTION_MS);
      this.histogram.reset();
      this.windowStartedAt = now;
    }
    return this.recentMs;
  }
}
