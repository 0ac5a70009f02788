/**
 * The time that money and pacing follow: serve time, token expiry, event times, billing days,
 * reservations and pacing slices. Every service of one funnel reads the same `CLOCK`, so under a
 * scaled clock they agree on the simulated time. Deadlines, timeouts, caches and logs stay on the
 * wall clock. Injectable by this class.
 */
export abstract class Clock {
  /** Epoch milliseconds, an integer. */
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/** Simulated now = start + (wall now - anchor) x speed: every process given the same three agrees. */
export class ScaledClock extends Clock {
  constructor(
    readonly startMs: number,
    readonly anchorMs: number,
    readonly speed: number,
    private readonly wallNow: () => number = Date.now,
  ) {
    super();
  }

  now(): number {
    return Math.floor(this.startMs + (this.wallNow() - this.anchorMs) * this.speed);
  }
}
