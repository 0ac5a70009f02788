import { describe, expect, it } from '@jest/globals';
import { LatencyLimit } from './latency-limit.js';

const OPTIONS = { max: 40, min: 4, targetMs: 50, windowMs: 250 };

/** Drives a limit through windows of requests with the given latencies, on a clock of its own. */
function driver(options = OPTIONS) {
  let now = 0;
  const sut = new LatencyLimit(options, now);
  return {
    sut,
    /**
     * One window: 10 requests (the fewest a window moves on) admitted with `inFlight` being served
     * at the peak, all finishing after `latencyMs`, once the window's time is up.
     */
    window(latencyMs: number, inFlight = sut.current) {
      const epochs = Array.from({ length: 10 }, () => sut.admitted(inFlight));
      now += Math.max(latencyMs, options.windowMs);
      for (const epoch of epochs) sut.finished(epoch, latencyMs, now);
    },
  };
}

describe(LatencyLimit.name, () => {
  it('starts at 16 (within min and max)', () => {
    expect(new LatencyLimit(OPTIONS, 0).current).toBe(16);
    expect(new LatencyLimit({ ...OPTIONS, max: 6 }, 0).current).toBe(6);
    expect(new LatencyLimit({ ...OPTIONS, min: 20 }, 0).current).toBe(20);
  });

  it('rises by one a window while the limit is reached and requests do not queue', () => {
    const { sut, window } = driver();

    window(20);
    window(20);
    window(20);

    expect(sut.current).toBe(19);
  });

  it('does not rise while demand stays below the limit', () => {
    const { sut, window } = driver();

    window(20, 5);
    window(20, 5);

    expect(sut.current).toBe(16);
  });

  it('drops by a fifth when the median doubles the lightly loaded one and the p90 is over the target', () => {
    const { sut, window } = driver();
    window(20);
    expect(sut.current).toBe(17);

    window(60);

    expect(sut.current).toBe(13);
    expect(sut.baseline).toBe(20);
    expect(sut.lastWindow).toEqual({ p50: 60, p90: 60 });
  });

  it('does not drop while the p90 is within the target, however it compares with the baseline', () => {
    const { sut, window } = driver();
    window(10);

    window(45);

    expect(sut.current).toBe(18);
  });

  it('does not take a machine slow at any load for an overloaded one', () => {
    const { sut, window } = driver();

    for (let i = 0; i < 5; i++) window(120);

    expect(sut.current).toBe(21);
  });

  it('forgets the lightly loaded median only in windows below the limit, not through an overload', () => {
    const { sut, window } = driver({ ...OPTIONS, targetMs: 30 });
    window(20);

    // At the limit, just under twice the baseline: not queueing, but no evidence the machine got slower.
    for (let i = 0; i < 200; i++) window(39);
    expect(sut.baseline).toBe(20);

    // Below the limit it follows a machine that got slower, half a percent a window.
    window(39, 1);
    expect(sut.baseline).toBeCloseTo(20.1);
  });

  it('stays within min and max', () => {
    const low = driver({ ...OPTIONS, max: 17 });
    for (let i = 0; i < 5; i++) low.window(10);
    expect(low.sut.current).toBe(17);

    const high = driver();
    high.window(10);
    for (let i = 0; i < 20; i++) high.window(500);
    expect(high.sut.current).toBe(4);
  });

  it('does not count requests admitted before a drop against the lower limit', () => {
    let now = 0;
    const sut = new LatencyLimit(OPTIONS, now);
    const finish = (epochs: number[], latencyMs: number) => {
      now += 300;
      for (const epoch of epochs) sut.finished(epoch, latencyMs, now);
    };
    finish(
      Array.from({ length: 10 }, () => sut.admitted(16)),
      20,
    );
    const admittedBeforeTheDrop = Array.from({ length: 20 }, () => sut.admitted(17));
    finish(admittedBeforeTheDrop.slice(0, 10), 100);
    const afterDrop = sut.current;

    finish(admittedBeforeTheDrop.slice(10), 100);

    expect(afterDrop).toBe(13);
    expect(sut.current).toBe(afterDrop);
  });

  it('refuses a min outside 1..max', () => {
    expect(() => new LatencyLimit({ ...OPTIONS, min: 0 }, 0)).toThrow('min 0 must be from 1 to max 40');
    expect(() => new LatencyLimit({ ...OPTIONS, min: 41 }, 0)).toThrow(RangeError);
  });
});
